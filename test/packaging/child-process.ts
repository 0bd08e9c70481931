// Runs the emulator (or a consumer script) as a real child process and reads what it prints:
// the tests of the CLI, the container start path and the installed package share it.
import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface RunningProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /**
   * Resolves with the first match of the pattern in stdout; rejects if the process exits first or the guard runs out
   */
  waitForOutput: (pattern: RegExp, guardMs?: number) => Promise<RegExpMatchArray>
  exited: Promise<Exit>
  /**
   * Sends a signal to the child, or to its whole process group when started with `group` (as a terminal or CI runner
   * does)
   */
  signal: (signal: NodeJS.Signals) => void
  /** SIGKILL if still running (teardown) */
  kill: () => void
}

export interface SpawnOptions {
  cwd?: string
  /** Added to a copy of this process's environment, minus anything that would change the emulator's configuration */
  env?: NodeJS.ProcessEnv
  /** Its own process group, for commands that start the emulator as a grandchild (npx) */
  group?: boolean
}

/** Variables the emulator reads: a developer's shell must not leak them into a test */
const EMULATOR_VARIABLES = [
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'FIXTURES',
  'SEED',
  'ACCESS_TOKEN_TTL',
  'CODE_TTL',
  'REFRESH_TOKEN_TTL',
  'SIGNING_ALG',
  'SIGNING_KEY',
  'TRUST_PROXY',
  'PROFILE',
  'LOG_LEVEL',
  'ADMIN_TOKEN',
  'ADMIN',
  'WATCH'
]

/**
 * This process's environment without what would make a child differ from one a user starts: the
 * emulator's variables, tap's loader and coverage hooks (NODE_OPTIONS, TAP_*), and the npm_*
 * variables of an enclosing `npm test` (npm_config_local_prefix would point `npm install` in a
 * temporary folder back at this project).
 */
export function cleanEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (
      EMULATOR_VARIABLES.includes(name) ||
      /^(npm_|TAP|_TAPJS|NODE_OPTIONS$|NODE_V8_COVERAGE$|TS_NODE_)/i.test(name)
    ) {
      continue
    }
    env[name] = value
  }
  // Processes started through tsx (src/server.ts, a TypeScript consumer) keep no cache in the
  // system temp folder: nothing of a test run lives outside the checkout
  return { ...env, TSX_DISABLE_CACHE: '1', ...extra }
}

export function startProcess (command: string, args: string[], options: SpawnOptions = {}): RunningProcess {
  const group = options.group === true
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group
  })
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
    for (const waiter of waiters) waiter()
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  let done = false
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      done = true
      resolve({ code, signal })
      for (const waiter of waiters) waiter()
    })
  })

  const waitForOutput = async (pattern: RegExp, guardMs = 30_000): Promise<RegExpMatchArray> =>
    await new Promise((resolve, reject) => {
      const check = (): void => {
        const match = out.match(pattern)
        if (match !== null) finish(() => resolve(match))
        else if (done) {
          finish(() =>
            reject(new Error(`process exited before printing ${String(pattern)}\nstdout: ${out}\nstderr: ${err}`))
          )
        }
      }
      // A guard against a hung child, not a timing assertion
      const guard = setTimeout(
        () =>
          finish(() => reject(new Error(`no ${String(pattern)} within ${guardMs} ms\nstdout: ${out}\nstderr: ${err}`))),
        guardMs
      )
      const finish = (settle: () => void): void => {
        clearTimeout(guard)
        waiters.delete(check)
        settle()
      }
      waiters.add(check)
      check()
    })

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForOutput,
    exited,
    signal: (signal) => {
      if (group && child.pid !== undefined) process.kill(-child.pid, signal)
      else child.kill(signal)
    },
    kill: () => {
      try {
        // A group may outlive its leader (an orphaned grandchild): always sweep it
        if (group && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        else if (!done) child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

/** The banner's first line: `camara-nv-emulator <version> listening on <address> (...)` */
export const LISTENING = /listening on (http:\/\/\S+) \(/

/** Waits for the banner and returns the address the emulator listens on */
export async function listeningAddress (cli: RunningProcess): Promise<string> {
  const [, address] = await cli.waitForOutput(LISTENING)
  return address as string
}

/** How a fresh TCP connection to the port ends: 'connected', or the error code (ECONNREFUSED when nothing listens) */
export async function probePort (port: number, host = '127.0.0.1'): Promise<string> {
  return await new Promise((resolve) => {
    const socket = connect(port, host)
    socket.once('connect', () => { socket.destroy(); resolve('connected') })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

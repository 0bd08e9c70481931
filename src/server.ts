#!/usr/bin/env node
// Process entry: flags + env -> config -> buildApp -> listen; graceful shutdown on SIGTERM/SIGINT.
import { CommanderError } from 'commander'
import { parseConfig, type EmulatorConfig } from './config/config.js'
import { tuneHeap } from './config/heap.js'
import { VERSION as version } from './version.js'

/** How long a shutdown waits for requests in flight (Docker's stop waits 10 s before SIGKILL) */
const SHUTDOWN_GRACE_MS = 5000

function fail (message: string): never {
  process.stderr.write(`camara-nv-emulator: ${message}\n`)
  process.exit(1)
}

async function main (): Promise<void> {
  tuneHeap()
  let config: EmulatorConfig
  try {
    config = parseConfig(process.argv.slice(2), process.env, version)
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode)
    throw error
  }

  // Loaded only now, so --help, --version and a mistyped flag answer without loading the server
  const [{ buildApp }, { FixtureError }, { KeyFileError }, { StoreUnavailableError }] = await Promise.all([
    import('./app.js'), import('./core/fixtures.js'), import('./core/keys.js'), import('./core/store.js')
  ])
  let app
  try {
    app = await buildApp(config, { prettyLogs: process.stdout.isTTY })
  } catch (error) {
    if (error instanceof FixtureError) fail(`invalid fixtures: ${error.message}`)
    if (error instanceof KeyFileError) fail(`invalid signing key: ${error.message}`)
    if (error instanceof StoreUnavailableError) fail(`${error.message} (--store or STORE_URL)`)
    throw error
  }

  const address = await app.listen({ port: config.port, host: config.host }).catch((error: NodeJS.ErrnoException) => {
    fail(
      error.code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is already in use (use --port or PORT)`
        : error.message
    )
  })
  if (config.publicUrl === undefined && config.port === 0) app.emulator.urls.setBase(address)

  const { urls, directory } = app.emulator
  const counts = directory.counts()
  process.stdout.write(
    [
      `camara-nv-emulator ${version} listening on ${address} (seed ${config.seed}, profile ${config.profile})`,
      `  issuer         ${urls.issuer}`,
      `  discovery      ${urls.discovery}`,
      `  authorize      ${urls.authorizationEndpoint}`,
      `  token          ${urls.tokenEndpoint}`,
      `  jwks           ${urls.jwksUri}`,
      `  health         ${urls.publicUrl}/_emulator/health`,
      `  fixtures       ${config.fixtures.join(', ')}: ${counts.operators} operators, ${counts.clients} clients, ` +
        `${counts.subscribers} subscribers`,
      ''
    ].join('\n')
  )

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) {
      // A second signal: the operator does not want to wait for the stragglers
      app.log.warn({ signal }, 'closing every connection now')
      app.server.closeAllConnections()
      return
    }
    closing = true
    app.log.info({ signal }, 'shutting down')
    // close() waits for requests in flight. Their keep-alive connections would then hold the process
    // for the keep-alive timeout (72 s in Fastify): end each one as soon as its response is out.
    app.server.keepAliveTimeout = 1
    // A client that never finishes (a 'hang' scenario, a stalled upload) must not block a container
    // stop: after a grace period the connections left are cut
    setTimeout(() => {
      app.log.warn(
        { graceMs: SHUTDOWN_GRACE_MS },
        'requests still in flight after the grace period: closing their connections'
      )
      app.server.closeAllConnections()
    }, SHUTDOWN_GRACE_MS).unref()
    app.close().then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'error during shutdown')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error))
})

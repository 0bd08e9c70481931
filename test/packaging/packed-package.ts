// The package as `npm publish` would ship it: `npm pack` (its prepack build included) run on a copy
// of the working tree, then unpacked. Tests start what users install, not the working tree's
// dist/, which other runs may be rebuilding. Built once per content of the packed sources and
// cached inside this checkout (node_modules/.cache/camara-nv-emulator/packed), so test files
// share one build; concurrent builders race safely (each builds aside and renames into place;
// the loser uses the winner's). The unpacked package links to this checkout's node_modules, so a
// build is valid only here: the key holds the checkout's path and a build whose link no longer
// resolves to this checkout's node_modules (a moved or copied tree) is built again.
import { execFile as execFileCallback } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { CACHE_ROOT, CHECKOUT } from '../helpers/temp-dir.js'
import { cleanEnv } from './child-process.js'

export const execFile = promisify(execFileCallback)

export const ROOT = CHECKOUT

/** What `npm pack` needs from the working tree: the "files" entries and what prepack builds them from */
const PACK_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'LICENSE',
  'src',
  'fixtures',
  'scripts'
]

export interface PackedPackage {
  /** The tarball `npm pack` wrote */
  tarball: string
  /** The unpacked tarball (its `package/` folder), with the project's node_modules linked in */
  root: string
  version: string
  /** esbuild's metafile of the packed bundle (kept from the build; the package does not ship it) */
  metafile: string
}

function filesUnder (path: string): string[] {
  if (!existsSync(path)) return []
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path).sort().flatMap((entry) => filesUnder(join(path, entry)))
}

/** The packed sources' content and the checkout whose node_modules the build links to */
function buildKey (): string {
  const hash = createHash('sha256').update(realpathSync(ROOT)).update('\0')
  for (const file of PACK_INPUTS.flatMap((input) => filesUnder(join(ROOT, input)))) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  return hash.digest('hex').slice(0, 16)
}

async function build (work: string): Promise<void> {
  const stage = join(work, 'stage')
  mkdirSync(stage, { recursive: true })
  for (const input of PACK_INPUTS) {
    if (existsSync(join(ROOT, input))) cpSync(join(ROOT, input), join(stage, input), { recursive: true })
  }
  // prepack's tsc and the unpacked package's runtime imports resolve through the project's modules
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir')
  await execFile('npm', ['pack', '--pack-destination', work, '--no-fund', '--no-audit'], {
    cwd: stage,
    env: cleanEnv(),
    maxBuffer: 16 * 1024 * 1024
  })
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))
  if (tarball === undefined) throw new Error(`npm pack left no tarball in ${work}`)
  await execFile('tar', ['-xzf', join(work, tarball), '-C', work])
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'package', 'node_modules'), 'dir')
  cpSync(join(stage, 'dist', 'server.meta.json'), join(work, 'server.meta.json'))
  rmSync(stage, { recursive: true, force: true })
  writeFileSync(join(work, 'tarball'), tarball)
}

/** A finished build whose node_modules link resolves to this checkout's */
function usable (dir: string): boolean {
  try {
    return existsSync(join(dir, 'tarball')) &&
      realpathSync(join(dir, 'package', 'node_modules')) === realpathSync(join(ROOT, 'node_modules'))
  } catch {
    return false
  }
}

/** Builds of sources long since changed: nothing uses them any more */
function pruneOldBuilds (cache: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000
  for (const entry of readdirSync(cache)) {
    const path = join(cache, entry)
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true })
  }
}

let packed: Promise<PackedPackage> | undefined

async function pack (): Promise<PackedPackage> {
  const cache = join(CACHE_ROOT, 'packed')
  const dir = join(cache, buildKey())
  if (!usable(dir)) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(cache, { recursive: true })
    const work = `${dir}.building-${process.pid}-${Date.now()}`
    try {
      await build(work)
      try {
        renameSync(work, dir)
      } catch (error) {
        // Another test process finished first with the same content: use its build
        if (!usable(dir)) throw error
      }
      pruneOldBuilds(cache)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  const root = join(dir, 'package')
  return {
    tarball: join(dir, readFileSync(join(dir, 'tarball'), 'utf8')),
    root,
    metafile: join(dir, 'server.meta.json'),
    version: (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  }
}

/** Packs the working tree (once per process and per content) and returns the tarball and its unpacked files */
export async function packedPackage (): Promise<PackedPackage> {
  packed ??= pack()
  return await packed
}

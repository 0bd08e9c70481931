// `npm start` builds only when a source file is newer than the last build, so a second start is instant.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const stamp = join(root, 'dist', '.build-stamp')

function newest (path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((max, entry) => Math.max(max, newest(join(path, entry))), 0)
}

const sources = Math.max(
  newest(join(root, 'src')),
  newest(join(root, 'package.json')),
  newest(join(root, 'tsconfig.json')),
  newest(join(root, 'tsconfig.build.json')),
  newest(join(root, 'scripts', 'build.mjs'))
)
if (!existsSync(stamp) || statSync(stamp).mtimeMs < sources) {
  process.stderr.write('camara-nv-emulator: building (tsc, then the CLI bundle)...\n')
  // The build writes the stamp itself, as `npm run build` does
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' })
}

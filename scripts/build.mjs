// `npm run build`: tsc compiles src/ to dist/ (the library, its types and source maps), then
// esbuild bundles the CLI entry into one file, dist/server.js, so `npm start`, the bin and the
// container load one module instead of ~600 (start to healthy ~550 ms -> ~250 ms).
// Left out of the bundle: pino-pretty (only loaded for a terminal). swagger-ui's code is bundled;
// its static files are read from node_modules (src/plugins/openapi.ts names them).
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const entry = join(root, 'dist', 'server.js')

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
await build({
  entryPoints: [entry],
  outfile: entry,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['pino-pretty'],
  // The CommonJS packages inside an ES module bundle call require() for Node's own modules
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning'
})

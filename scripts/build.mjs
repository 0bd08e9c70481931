// `npm run build`: tsc compiles src/ to dist/ (the library, its types and source maps), then
// esbuild bundles the CLI entry, dist/server.js, so `npm start`, the bin and the container load a
// few modules instead of ~600 (start to healthy ~550 ms -> ~250 ms). Code splitting: what the
// CLI imports only when asked (the Redis store, the tracing plugin) is its own file in
// dist/chunks, so a start does not parse it (the Redis client alone is 1.4 MB of 5.2).
// Left out of the bundle: BUNDLE_EXTERNAL. swagger-ui's code is bundled; its static files are read
// from node_modules (src/plugins/openapi.ts names them). The demo's browser scripts are copied. esbuild's metafile goes
// next to the
// bundle, dist/server.meta.json, so test/packaging/bundle.test.ts can check what the bundle imports.
import { execFileSync } from 'node:child_process'
import { cpSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/**
 * Packages the bundle leaves to node_modules: pino-pretty is only loaded for a terminal;
 * @node-rs/xxhash is an optional import of @redis/client (its client-side cache), inside a try,
 * which the emulator never uses and nobody installs. The OpenTelemetry SDK is imported only when
 * tracing is on (--otlp-endpoint: src/plugins/tracing.ts), so it stays out of the bundle, which
 * every start parses (~700 KB). @opentelemetry/api is bundled: @redis/client reads it at load.
 */
export const BUNDLE_EXTERNAL = Object.freeze([
  'pino-pretty',
  '@node-rs/xxhash',
  '@opentelemetry/core',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-base'
])

const root = fileURLToPath(new URL('..', import.meta.url))
const entry = join(root, 'dist', 'server.js')

async function buildAll () {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
    { stdio: 'inherit' }
  )
  // The demo's browser scripts are files, not modules tsc compiles: dist/demo/public, beside the
  // library's dist/demo/*.js, where src/demo/assets.ts looks from dist and from the bundle
  cpSync(join(root, 'src', 'demo', 'public'), join(root, 'dist', 'demo', 'public'), { recursive: true })
  // The chunks of an earlier build: their names carry their content's hash
  rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true })
  const { metafile } = await build({
    entryPoints: [entry],
    outdir: join(root, 'dist'),
    outbase: join(root, 'dist'),
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    external: [...BUNDLE_EXTERNAL],
    // The CommonJS packages inside an ES module bundle call require() for Node's own modules
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = " +
        '__bundleRequire(import.meta.url);'
    },
    // The metafile's paths relative to the package root ('dist/server.js'), wherever the build runs from
    absWorkingDir: root,
    metafile: true,
    logLevel: 'warning'
  })
  writeFileSync(join(root, 'dist', 'server.meta.json'), JSON.stringify(metafile))
  // What `npm start` (scripts/build-if-needed.mjs) compares the sources with: a build made by
  // `npm run build` counts, so the first start after it does not build again
  writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n')
}

// Imported (by the bundle test, for BUNDLE_EXTERNAL) it builds nothing
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await buildAll()

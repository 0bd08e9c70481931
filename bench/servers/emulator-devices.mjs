// The emulator with one performance device turned off, for `npm run bench -- --only devices`:
// argv port, key file, then --eager-schemas or nothing. The built library
// (dist/app.js) at --log-level warn, loaded by plain Node (no TypeScript loader, whose start-up
// would drown the difference), so only the device differs between the two sides.
import { buildApp } from '../../dist/app.js'
import { defaultConfig } from '../../dist/config/config.js'

const [portText, keyFile, ...switches] = process.argv.slice(2)
const port = Number(portText)
const app = await buildApp({ ...defaultConfig, port, signingKeyFile: keyFile, logLevel: 'warn' }, {
  devices: { lazySchemas: !switches.includes('--eager-schemas') }
})
await app.listen({ port, host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })

// The baseline of the /verify benchmark: a bare Fastify route (no logger, no hooks) that parses
// the same JSON request and answers the same JSON as the emulator's verify.
import Fastify from 'fastify'

const port = Number(process.argv[2] ?? 0)
const app = Fastify({ logger: false })
app.get('/ready', async () => ({ ok: true }))
app.post('/camara/api/number-verification/v1/verify', async () => ({
  devicePhoneNumberVerified: true,
  assessedAt: new Date().toISOString()
}))
app.get('/hop', async () => ({ ok: true }))
await app.listen({ port, host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })

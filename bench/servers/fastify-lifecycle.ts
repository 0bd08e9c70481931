// A second baseline of the /verify benchmark: the framework's share of the emulator's verify and
// nothing of its domain. Fastify with a logger at warn, an onRequest hook that reads the bearer
// token from a Map, the route's body schema (the emulator's own, validated by Ajv) and its 200
// serializer, a correlator header and an onSend hook appending to a bounded list. What separates
// the emulator from this route is its own per-call work, not the framework.
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { AggregatorVerifyResponseSchema, VerifyRequestSchema } from '../../src/schemas/camara.js'

const port = Number(process.argv[2] ?? 0)
const app = Fastify({ logger: { level: 'warn' } })
const subscribers = new Map<string, string>()
const journal: Array<{ url: string, status: number }> = []

declare module 'fastify' {
  interface FastifyRequest { msisdn: string | undefined }
}

app.decorateRequest('msisdn', undefined)
app.addHook('onRequest', async (request) => {
  const match = /^Bearer\s+(\S+)$/.exec(request.headers.authorization ?? '')
  request.msisdn = match === null ? undefined : subscribers.get(match[1] as string)
})
app.addHook('onSend', async (request, reply, payload) => {
  journal.push({ url: request.url, status: reply.statusCode })
  if (journal.length > 1000) journal.shift()
  return payload
})
app.get('/ready', async () => ({ ok: true }))
// The one token the bench sends (argv[3]) names the seed subscriber
subscribers.set(process.argv[3] ?? '', '+34666666666')
app.post('/camara/api/number-verification/v1/verify', {
  schema: { body: VerifyRequestSchema, response: { 200: AggregatorVerifyResponseSchema } }
}, async (request, reply) => {
  const correlator = request.headers['x-correlator']
  reply.header('x-correlator', typeof correlator === 'string' ? correlator : randomUUID())
  const body = request.body as { phoneNumber?: string }
  return { devicePhoneNumberVerified: body.phoneNumber === request.msisdn, assessedAt: new Date().toISOString() }
})
await app.listen({ port, host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })

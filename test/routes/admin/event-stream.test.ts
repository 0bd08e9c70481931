// The journal stream under backpressure, over real sockets: a reader that stops reading is paused
// (its events queued up to a small bound) and then dropped, so the server's memory for it stays
// bounded; a reader that only paused for a burst gets every event once it reads again.
import { connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { PAUSED_EVENTS_BOUND } from '../../../src/routes/admin/event-stream.js'
import { buildTestApp } from '../../helpers/app.js'

/** A journal entry of about 1 KB, so the socket's buffers fill within a few thousand */
function record (i: number): Parameters<FastifyInstance['emulator']['journal']['append']>[0] {
  return {
    operation: 'verify',
    method: 'POST',
    path: `/camara/api/number-verification/v1/verify?n=${i}&pad=${'x'.repeat(900)}`,
    status: 200,
    durationMs: 1
  }
}

async function listeningApp (t: Test): Promise<{ app: FastifyInstance, port: number, serverSockets: Socket[] }> {
  const { app } = await buildTestApp(t)
  const serverSockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => serverSockets.push(socket))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port, serverSockets }
}

/** Opens the stream on a raw socket and resolves once the response headers have come */
async function openStream (port: number): Promise<{ socket: Socket, received: () => string }> {
  const socket = connect(port, '127.0.0.1')
  let text = ''
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (text.includes('\r\n\r\n')) resolve()
    })
    socket.write('GET /_emulator/journal/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n')
  })
  return { socket, received: () => text }
}

t.test('a reader that stops reading is dropped, and what the server holds for it stays bounded', async (t) => {
  const { app, port, serverSockets } = await listeningApp(t)
  const { socket } = await openStream(port)
  t.teardown(() => socket.destroy())
  t.equal(app.emulator.journal.subscriberCount, 1)
  const server = serverSockets.at(-1) as Socket
  // The reader stops reading: the kernel's buffers fill, then the server socket's
  socket.pause()

  let appended = 0
  let largestBuffer = 0
  // A cap, not a timer: without backpressure the subscriber would never go and the buffer would grow
  while (app.emulator.journal.subscriberCount > 0 && appended < 200_000) {
    for (let i = 0; i < 100; i++) app.emulator.journal.append(record(appended++))
    largestBuffer = Math.max(largestBuffer, server.writableLength)
    await nextTurn()
  }
  t.equal(app.emulator.journal.subscriberCount, 0, `the stalled reader was dropped (after ${appended} entries)`)
  t.ok(server.destroyed, 'its connection was closed')
  // The socket's own buffer (its high-water mark: 16 KB on Node 20, 64 KB from Node 22) plus the
  // entries of the last turn written: nothing queued behind it
  const bound = server.writableHighWaterMark + 16 * 1024
  t.ok(largestBuffer < bound, `the server socket never held more than ${largestBuffer} bytes for it (bound ${bound})`)
})

t.test('a reader that pauses for a burst within the bound gets every event, in order, once it reads', async (t) => {
  const { app, port, serverSockets } = await listeningApp(t)
  const { socket, received } = await openStream(port)
  t.teardown(() => socket.destroy())
  const server = serverSockets.at(-1) as Socket
  socket.pause()
  // Fill the buffers until the server holds events back for this reader
  let appended = 0
  while (server.writableLength < server.writableHighWaterMark && appended < 50_000) {
    for (let i = 0; i < 10; i++) app.emulator.journal.append(record(appended++))
    await nextTurn()
  }
  // A burst smaller than the bound, while paused: queued, not dropped
  for (let i = 0; i < PAUSED_EVENTS_BOUND / 2; i++) app.emulator.journal.append(record(appended++))
  t.equal(app.emulator.journal.subscriberCount, 1, 'still subscribed')
  const last = appended
  socket.resume()
  await new Promise<void>((resolve) => {
    const check = (): void => { if (received().includes(`id: ${last}\n`)) resolve() }
    socket.on('data', check)
    check()
  })
  const ids = [...received().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
  t.strictSame(ids, Array.from({ length: last }, (_, i) => i + 1), 'every entry, once, in order')
})

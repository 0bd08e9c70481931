// A server-sent event stream that honours backpressure. While the reader keeps up, each event
// goes straight to the socket. Once the socket's buffer is full (write() returns false) the
// reader is paused: new events wait in a small queue until the socket drains; a reader that
// stays stalled past that queue is dropped, so a stalled or malicious reader holds at most
// the socket's buffer plus the queue, however busy the emulator is.
import type { ServerResponse } from 'node:http'

/** Events held for a paused reader before it is dropped (a burst of requests, not a stall) */
export const PAUSED_EVENTS_BOUND = 256

export class EventStream {
  private readonly raw: ServerResponse
  private readonly bound: number
  private readonly queue: string[] = []
  private paused = false
  private closed = false
  private readonly onDrop: () => void

  /** `onDrop` runs once, when the reader is dropped for not reading */
  constructor (raw: ServerResponse, options: { onDrop: () => void, bound?: number }) {
    this.raw = raw
    this.bound = options.bound ?? PAUSED_EVENTS_BOUND
    this.onDrop = options.onDrop
    raw.on('drain', () => this.drain())
  }

  /** The reader has stopped reading and events are queued for it */
  get isPaused (): boolean {
    return this.paused
  }

  get queued (): number {
    return this.queue.length
  }

  /** An event (or an SSE comment line) for the reader; queued or dropped if it is not reading */
  send (chunk: string): void {
    if (this.closed) return
    if (this.paused) {
      if (this.queue.length >= this.bound) {
        this.drop()
        return
      }
      this.queue.push(chunk)
      return
    }
    if (!this.raw.write(chunk)) this.paused = true
  }

  /** Keep-alive comments matter only to a reader that reads: a paused one gets none */
  keepAlive (): void {
    if (!this.paused) this.send(': keep-alive\n\n')
  }

  close (): void {
    this.closed = true
    this.queue.length = 0
  }

  private drain (): void {
    if (this.closed) return
    this.paused = false
    while (this.queue.length > 0) {
      const chunk = this.queue.shift() as string
      if (!this.raw.write(chunk)) {
        this.paused = true
        return
      }
    }
  }

  private drop (): void {
    this.close()
    // destroy, not end: end() would queue behind the data the reader is not reading
    this.raw.destroy()
    this.onDrop()
  }
}

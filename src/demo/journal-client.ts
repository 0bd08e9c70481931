// The journal as the sample app reads it: GET /_emulator/journal through the same back-channel as
// its token and verify calls, with the admin token when one is configured, as any client of the
// control API would. The app learns from it what a client cannot see in the protocol answers: the
// flow's hops, and the number the network bound to its token (a share call would spend a
// camara-strict token that verify still needs, and add a hop of its own).
import type { FastifyInstance } from 'fastify'
import type { JournalEntry } from '../core/journal.js'
import { callEmulator } from './back-channel.js'

export interface JournalClientOptions {
  /** The control API is on (no --no-admin) */
  enabled: boolean
  adminToken: string | undefined
}

export interface JournalQuery {
  flowId?: string
  correlator?: string
}

/** Why the app could not read the journal, in words for the page */
export type JournalAnswer = { entries: Array<Readonly<JournalEntry>> } | { unavailable: string }

/** The journal records a request once its response is sent, a moment after the caller read it */
const RECORDING_WAIT_MS = 1000
const POLL_INTERVAL_MS = 10
const QUERY_LIMIT = 10_000

function isEntryList (value: unknown): value is { entries: JournalEntry[] } {
  const entries = typeof value === 'object' && value !== null ? (value as { entries?: unknown }).entries : undefined
  return Array.isArray(entries) && entries.every((entry: unknown) => typeof entry === 'object' && entry !== null &&
    typeof (entry as { id?: unknown }).id === 'number')
}

export class JournalClient {
  private readonly app: FastifyInstance
  private readonly options: JournalClientOptions

  constructor (app: FastifyInstance, options: JournalClientOptions) {
    this.app = app
    this.options = options
  }

  /**
   * Matching entries, oldest first; with `until`, once an entry with that correlator is among
   * them (or after a short wait: a request the emulator never answered may be recorded late).
   */
  async entries (query: JournalQuery, until?: string): Promise<JournalAnswer> {
    if (!this.options.enabled) {
      return { unavailable: 'the control API is off (--no-admin), so the app cannot read the journal' }
    }
    const deadline = Date.now() + RECORDING_WAIT_MS
    for (;;) {
      const answer = await this.read(query)
      if ('unavailable' in answer || until === undefined || answer.entries.some((e) => e.correlator === until)) {
        return answer
      }
      if (Date.now() >= deadline) return answer
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
    }
  }

  private async read (query: JournalQuery): Promise<JournalAnswer> {
    const search = new URLSearchParams({ ...query, limit: String(QUERY_LIMIT) })
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.options.adminToken !== undefined) headers.authorization = `Bearer ${this.options.adminToken}`
    const response = await callEmulator(this.app, {
      method: 'GET',
      path: `/_emulator/journal?${search.toString()}`,
      headers
    })
    if (!response.ok) return { unavailable: `the journal could not be read: ${response.failure}` }
    if (response.status !== 200) return { unavailable: `the journal API answered HTTP ${response.status}` }
    try {
      const body: unknown = JSON.parse(response.body)
      if (isEntryList(body)) return { entries: body.entries }
    } catch {
      // Reported below like any other body the app cannot read
    }
    return { unavailable: 'the journal API answered something other than its entries' }
  }
}

// Prometheus metrics of this process (prom-client), read at GET /_emulator/metrics: requests per
// leg, status and client, their durations, the scenarios applied, flows started and completed, and
// the store's size. Every surface's request is counted where it is journaled (journal-record.ts),
// so the two always agree; the control API and the docs are in neither. Each replica counts its own
// requests, as Prometheus expects of the processes it scrapes.
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { JournalRecord } from '../core/journal.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: EmulatorMetrics
  }
}

/** Distinct values a label may take (clients, scenarios); past it, 'other': a scrape stays bounded */
export const MAX_LABEL_VALUES = 200

let processMetrics: Registry | undefined

/**
 * prom-client's process metrics, once per process however many apps it builds (tests build
 * hundreds): each collection watches the event loop and the GC for as long as the process lives
 */
function processRegistry (): Registry {
  if (processMetrics === undefined) {
    processMetrics = new Registry()
    collectDefaultMetrics({ register: processMetrics, prefix: 'nv_emulator_' })
  }
  return processMetrics
}

/** The label value of a request without one (no client known yet) */
export const NONE = 'none'
export const OTHER = 'other'

/** A label's values, bounded: the first MAX_LABEL_VALUES seen keep their name */
class BoundedLabel {
  private readonly values = new Set<string>()

  constructor (private readonly limit: number) {}

  of (value: string | undefined): string {
    if (value === undefined) return NONE
    if (this.values.has(value)) return value
    if (this.values.size >= this.limit) return OTHER
    this.values.add(value)
    return value
  }
}

export interface MetricsOptions {
  /** Entries per collection, read at each scrape; a store that cannot answer leaves the gauge empty */
  storeSizes: () => Promise<Record<string, number>>
  /** Distinct clients and scenarios named in labels (default MAX_LABEL_VALUES) */
  maxLabelValues?: number
}

/** What a request adds to the metrics, beside its journal record */
export interface RequestExtras {
  /** The token request's grant_type: an authorization_code exchange completes a flow */
  grantType?: string | undefined
}

export class EmulatorMetrics {
  readonly registry = new Registry()
  private readonly clients: BoundedLabel
  private readonly scenarioNames: BoundedLabel
  private readonly requests: Counter<'leg' | 'status' | 'client'>
  private readonly durations: Histogram<'leg'>
  private readonly scenarios: Counter<'scenario' | 'leg'>
  private readonly flowsStarted: Counter
  private readonly flowsCompleted: Counter

  constructor (options: MetricsOptions) {
    const registers = [this.registry]
    this.clients = new BoundedLabel(options.maxLabelValues ?? MAX_LABEL_VALUES)
    this.scenarioNames = new BoundedLabel(options.maxLabelValues ?? MAX_LABEL_VALUES)
    this.requests = new Counter({
      name: 'nv_emulator_requests_total',
      help: 'Requests answered, by leg (authorize, operator, token, verify, share, discovery, jwks, other), ' +
        'status (0: a connection fault) and client',
      labelNames: ['leg', 'status', 'client'],
      registers
    })
    this.durations = new Histogram({
      name: 'nv_emulator_request_duration_seconds',
      help: 'Time to the response, injected latency included, by leg',
      labelNames: ['leg'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers
    })
    this.scenarios = new Counter({
      name: 'nv_emulator_scenarios_applied_total',
      help: 'Scenarios applied to requests, by scenario and leg',
      labelNames: ['scenario', 'leg'],
      registers
    })
    this.flowsStarted = new Counter({
      name: 'nv_emulator_flows_started_total',
      help: 'Authorization flows the gateway sent on to an operator',
      registers
    })
    this.flowsCompleted = new Counter({
      name: 'nv_emulator_flows_completed_total',
      help: 'Authorization flows whose code was exchanged for tokens',
      registers
    })
    const { storeSizes } = options
    // eslint-disable-next-line no-new -- registered with the registry, read at each scrape
    new Gauge({
      name: 'nv_emulator_store_entries',
      help: 'Entries in the store, by collection (the root world; a shared store holds every replica\'s)',
      labelNames: ['collection'],
      registers,
      async collect () {
        this.reset()
        let sizes: Record<string, number>
        try {
          sizes = await storeSizes()
        } catch {
          return
        }
        for (const [collection, size] of Object.entries(sizes)) this.set({ collection }, size)
      }
    })
  }

  /** Counts one journaled request */
  observe (record: JournalRecord, extras: RequestExtras = {}): void {
    const leg = record.operation
    this.requests.inc({ leg, status: String(record.status), client: this.clients.of(record.clientId) })
    this.durations.observe({ leg }, record.durationMs / 1000)
    for (const scenario of record.scenarios ?? []) {
      this.scenarios.inc({ scenario: this.scenarioNames.of(scenario), leg })
    }
    // A flow starts when the gateway redirects to its operator; a refusal carries its reason
    if (leg === 'authorize' && record.status >= 300 && record.status < 400 && record.reason === undefined) {
      this.flowsStarted.inc()
    }
    if (leg === 'token' && record.status === 200 && extras.grantType === 'authorization_code') this.flowsCompleted.inc()
  }

  /** The exposition text: the process's own metrics (memory, CPU, event loop), then the emulator's */
  async text (): Promise<string> {
    return `${await processRegistry().metrics()}\n${await this.registry.metrics()}`
  }

  get contentType (): string {
    return this.registry.contentType
  }
}

export default fp<MetricsOptions>(async (app, options) => {
  app.decorate('metrics', new EmulatorMetrics(options))
}, { name: 'metrics', fastify: '5.x' })

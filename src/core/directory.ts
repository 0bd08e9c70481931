// The emulated world, indexed for lookups: operators with their ranges and prefixes, clients,
// and subscribers by number and by network address. Rebuilt whole when fixtures change, so a
// lookup never sees a half-applied change.
import type { ClientFixture, OperatorFixture, SubscriberFixture } from './fixture-schema.js'
import type { Fixtures } from './fixtures.js'
import { parseRange, rangeContains, type NetworkAddress, type NetworkRange } from './network-address.js'
import type { FlowRef } from './records.js'

interface IndexedOperator {
  operator: OperatorFixture
  ranges: NetworkRange[]
}

interface IndexedSubscriber {
  subscriber: SubscriberFixture
  ranges: NetworkRange[]
}

const NONE: string[] = []

export class Directory {
  readonly fixtures: Fixtures
  private readonly operators = new Map<string, IndexedOperator>()
  private readonly clients = new Map<string, ClientFixture>()
  private readonly subscribersByMsisdn = new Map<string, SubscriberFixture>()
  /** Exact single addresses: the common case, a map lookup */
  private readonly subscribersByAddress = new Map<string, SubscriberFixture>()
  /** Subscribers given as a CIDR prefix (typical for IPv6 /64s): scanned */
  private readonly subscribersByPrefix: IndexedSubscriber[] = []
  /** Longest prefix first, so the most specific operator wins */
  private readonly prefixes: Array<{ prefix: string, operatorId: string }> = []

  constructor (fixtures: Fixtures) {
    this.fixtures = fixtures
    for (const operator of fixtures.operators) {
      this.operators.set(operator.id, { operator, ranges: operator.ipRanges.map((r) => parseRange(r) as NetworkRange) })
      for (const prefix of operator.numberPrefixes) this.prefixes.push({ prefix, operatorId: operator.id })
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length)
    for (const client of fixtures.clients) this.clients.set(client.clientId, client)
    for (const subscriber of fixtures.subscribers) {
      this.subscribersByMsisdn.set(subscriber.msisdn, subscriber)
      const ranges = [...subscriber.ipv4, ...subscriber.ipv6].map((r) => parseRange(r) as NetworkRange)
      const prefixes: NetworkRange[] = []
      for (const range of ranges) {
        const single = range.range[1] === (range.family === 'ipv4' ? 32 : 128)
        if (single) this.subscribersByAddress.set(range.range[0].toString(), subscriber)
        else prefixes.push(range)
      }
      if (prefixes.length > 0) this.subscribersByPrefix.push({ subscriber, ranges: prefixes })
    }
  }

  /** The scenarios the fixtures attach to the flow's subscriber, client and operator */
  scenariosFor (flow: FlowRef): string[] {
    const subscriber = flow.msisdn === undefined ? undefined : this.subscriber(flow.msisdn)?.scenarios
    const client = flow.clientId === undefined ? undefined : this.client(flow.clientId)?.scenarios
    const operator = flow.operatorId === undefined ? undefined : this.operator(flow.operatorId)?.scenarios
    // The common case: no fixture entity names a scenario, nothing to copy
    if (subscriber === undefined && client === undefined && operator === undefined) return NONE
    return [...subscriber ?? [], ...client ?? [], ...operator ?? []]
  }

  client (clientId: string): ClientFixture | undefined {
    return this.clients.get(clientId)
  }

  /** Whether any client of the world has the property (what discovery advertises for all) */
  someClient (predicate: (client: ClientFixture) => boolean): boolean {
    for (const client of this.clients.values()) if (predicate(client)) return true
    return false
  }

  operator (operatorId: string): OperatorFixture | undefined {
    return this.operators.get(operatorId)?.operator
  }

  subscriber (msisdn: string): SubscriberFixture | undefined {
    return this.subscribersByMsisdn.get(msisdn)
  }

  /**
   * The operator whose mobile network range holds this address; when ranges overlap (an MVNO
   * inside its host's block) the most specific one wins, as with number prefixes
   */
  operatorForAddress (address: NetworkAddress): OperatorFixture | undefined {
    let best: { operator: OperatorFixture, bits: number } | undefined
    for (const { operator, ranges } of this.operators.values()) {
      for (const range of ranges) {
        if (rangeContains(range, address) && (best === undefined || range.range[1] > best.bits)) {
          best = { operator, bits: range.range[1] }
        }
      }
    }
    return best?.operator
  }

  /** The operator with the longest number prefix matching this E.164 number */
  operatorForNumber (msisdn: string): OperatorFixture | undefined {
    const match = this.prefixes.find(({ prefix }) => msisdn.startsWith(prefix))
    return match === undefined ? undefined : this.operator(match.operatorId)
  }

  /** The subscriber using this address, whatever its operator */
  subscriberForAddress (address: NetworkAddress): SubscriberFixture | undefined {
    const exact = this.subscribersByAddress.get(address.text)
    if (exact !== undefined) return exact
    return this.subscribersByPrefix.find(({ ranges }) => ranges.some((range) => rangeContains(range, address)))
      ?.subscriber
  }

  counts (): { operators: number, clients: number, subscribers: number } {
    return { operators: this.operators.size, clients: this.clients.size, subscribers: this.subscribersByMsisdn.size }
  }
}

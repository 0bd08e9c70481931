// Which device the sample app pretends the browser is, and how it names it to the gateway: the
// browser's real address is 127.0.0.1, so a fixture subscriber is named by its network address in
// konera_context (the aggregator's way) or login_hint=ipport: (CAMARA's way).
import ipaddr from 'ipaddr.js'
import type { SubscriberFixture } from '../core/fixture-schema.js'
import type { Directory } from '../core/directory.js'
import { parseRange } from '../core/network-address.js'
import type { DemoChoices } from './attempts.js'

export const BROWSER_DEVICE = 'browser'

export interface DeviceOption {
  value: string
  label: string
  /** The number the user would normally claim on this device */
  msisdn?: string
  /** The operator's name, to group the choices */
  group?: string
}

/**
 * One concrete address of a subscriber entry: the address itself, or the first host of a range
 * (`2401:4900:1c0a:2f3::/64` -> `2401:4900:1c0a:2f3::1`).
 */
export function concreteAddress (entry: string): string | undefined {
  const range = parseRange(entry)
  if (range === undefined) return undefined
  const [base, bits] = range.range
  if (bits === (range.family === 'ipv4' ? 32 : 128)) return base.toString()
  const network = (
    range.family === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(range.text)
      : ipaddr.IPv6.networkAddressFromCIDR(range.text)
  ).toByteArray()
  const last = network.length - 1
  network[last] = (network[last] ?? 0) | 1
  return ipaddr.fromByteArray(network).toString()
}

export function deviceAddresses (subscriber: SubscriberFixture): { ipv4?: string, ipv6?: string } {
  const ipv4 = subscriber.ipv4.map(concreteAddress).find((a) => a !== undefined)
  const ipv6 = subscriber.ipv6.map(concreteAddress).find((a) => a !== undefined)
  return { ...(ipv4 === undefined ? {} : { ipv4 }), ...(ipv6 === undefined ? {} : { ipv6 }) }
}

export function deviceOptions (directory: Directory): DeviceOption[] {
  const operators = new Map(directory.fixtures.operators.map((o) => [o.id, o.name]))
  const subscribers = directory.fixtures.subscribers.map((s) => ({
    value: s.msisdn,
    label: s.name === undefined ? s.msisdn : `${s.msisdn} · ${s.name}`,
    msisdn: s.msisdn,
    group: operators.get(s.operator) ?? s.operator
  }))
  return [{ value: BROWSER_DEVICE, label: "This browser's own address (as the emulator sees it)" }, ...subscribers]
}

/** How the result page names the chosen device */
export function deviceLabel (directory: Directory, choices: DemoChoices): string {
  if (choices.device === BROWSER_DEVICE) return "This browser's own address"
  const label = directory.subscriber(choices.device)?.name
  return label === undefined ? choices.device : `${choices.device} · ${label}`
}

/** The authorize parameters that name the chosen device; none for the browser's own address */
export function deviceParameters (directory: Directory, choices: DemoChoices): Record<string, string> {
  if (choices.device === BROWSER_DEVICE) return {}
  const subscriber = directory.subscriber(choices.device)
  if (subscriber === undefined) return {}
  const { ipv4, ipv6 } = deviceAddresses(subscriber)
  if (choices.hint === 'ipport') {
    if (ipv4 !== undefined) return { login_hint: `ipport:${ipv4}` }
    if (ipv6 !== undefined) return { login_hint: `ipport:[${ipv6}]` }
  } else {
    const entries = [
      ipv4 === undefined ? undefined : `ipv4:${ipv4}`,
      ipv6 === undefined ? undefined : `ipv6:${ipv6}`
    ].filter((e) => e !== undefined)
    if (entries.length > 0) return { konera_context: entries.join(',') }
  }
  // A subscriber without addresses: only its number can name it (which the network does not trust)
  return { login_hint: `tel:${subscriber.msisdn}` }
}

// The device hints an authorization request may carry: CAMARA's login_hint forms and the
// aggregator's konera_context (`ipv4:...,ipv6:...`).
import { parseAddress, parseIpPort, type NetworkAddress } from './network-address.js'
import { isE164 } from './phone-number.js'

export type LoginHint =
  | { kind: 'tel', msisdn: string }
  | { kind: 'ipport', address: NetworkAddress, port?: number }
  | { kind: 'operatortoken', token: string }
  | { kind: 'unsupported', value: string }

export class HintError extends Error {}

/**
 * `tel:+34666666666`, bare `+34666666666`, `ipport:IP[:port]`, `ipport:[IPv6][:port]`,
 * `operatortoken:<opaque>`. Other forms are unsupported and ignored, as CAMARA recommends;
 * a known form with a malformed value is an error, since it is a client bug worth seeing.
 */
export function parseLoginHint (value: string): LoginHint {
  if (value.startsWith('tel:') || value.startsWith('+')) {
    const msisdn = value.startsWith('tel:') ? value.slice(4) : value
    if (!isE164(msisdn)) throw new HintError(`login_hint "${value}" is not tel:+E.164 (e.g. tel:+34666666666)`)
    return { kind: 'tel', msisdn }
  }
  if (value.startsWith('ipport:')) {
    const parsed = parseIpPort(value.slice(7))
    if (parsed === undefined) {
      throw new HintError(`login_hint "${value}" is not ipport:IPv4[:port] or ipport:[IPv6][:port]`)
    }
    return { kind: 'ipport', ...parsed }
  }
  if (value.startsWith('operatortoken:') && value.length > 14) return { kind: 'operatortoken', token: value.slice(14) }
  return { kind: 'unsupported', value }
}

export interface KoneraContext {
  ipv4?: NetworkAddress
  ipv6?: NetworkAddress
  /** `scenario:name` entries (repeatable, or name+name): scenarios for the whole flow */
  scenarios: string[]
  /** Other entries, ignored */
  extra: Record<string, string>
}

/** `ipv4:142.115.147.143,ipv6:2001:4860:7:f04::fe` (already URL-decoded) */
export function parseKoneraContext (value: string): KoneraContext {
  const context: KoneraContext = { scenarios: [], extra: {} }
  for (const entry of value.split(',')) {
    const item = entry.trim()
    if (item === '') continue
    const colon = item.indexOf(':')
    if (colon <= 0) throw new HintError(`konera_context entry "${item}" is not key:value`)
    const key = item.slice(0, colon)
    const raw = item.slice(colon + 1)
    if (key === 'ipv4' || key === 'ipv6') {
      if (context[key] !== undefined) throw new HintError(`konera_context has ${key} twice`)
      const address = parseAddress(raw, key)
      if (address === undefined) {
        throw new HintError(`konera_context ${key} "${raw}" is not a valid ${key === 'ipv4' ? 'IPv4' : 'IPv6'} address`)
      }
      context[key] = address
    } else if (key === 'scenario') {
      context.scenarios.push(...raw.split(/[+\s]+/).map((name) => name.trim()).filter((name) => name !== ''))
    } else {
      context.extra[key] = raw
    }
  }
  return context
}

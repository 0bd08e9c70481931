// IP address and CIDR handling for telco-finder routing and device identification.
// ipaddr.js does the parsing; this module only normalises (IPv4-mapped IPv6 becomes IPv4)
// so that one device always has one spelling.
import ipaddr from 'ipaddr.js'

export type AddressFamily = 'ipv4' | 'ipv6'

export interface NetworkAddress {
  family: AddressFamily
  /** Canonical text: dotted quad for IPv4, RFC 5952 compact form for IPv6 */
  text: string
  parsed: ipaddr.IPv4 | ipaddr.IPv6
}

export interface NetworkRange {
  family: AddressFamily
  text: string
  range: [ipaddr.IPv4 | ipaddr.IPv6, number]
}

function toAddress (parsed: ipaddr.IPv4 | ipaddr.IPv6): NetworkAddress {
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  }
  return { family: parsed.kind(), text: parsed.toString(), parsed }
}

/** Parses an IPv4 or IPv6 address (no brackets, no port, no zone); undefined when it is not one. */
export function parseAddress (text: string, family?: AddressFamily): NetworkAddress | undefined {
  const candidate = text.trim()
  if (family === 'ipv4' ? !ipaddr.IPv4.isValidFourPartDecimal(candidate) : !ipaddr.isValid(candidate)) return undefined
  if (candidate.includes('%')) return undefined
  const address = toAddress(ipaddr.parse(candidate))
  if (family !== undefined && address.family !== family) return undefined
  return address
}

/** Parses `a.b.c.d/n`, `x::/n`, or a single address (taken as a /32 or /128). */
export function parseRange (text: string): NetworkRange | undefined {
  const candidate = text.trim()
  if (!candidate.includes('/')) {
    const single = parseAddress(candidate)
    if (single === undefined) return undefined
    const bits = single.family === 'ipv4' ? 32 : 128
    return { family: single.family, text: `${single.text}/${bits}`, range: [single.parsed, bits] }
  }
  try {
    const [base, bits] = ipaddr.parseCIDR(candidate)
    if (base.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(candidate.split('/')[0] ?? '')) return undefined
    return { family: base.kind(), text: `${base.toString()}/${bits}`, range: [base, bits] }
  } catch {
    return undefined
  }
}

export function rangeContains (range: NetworkRange, address: NetworkAddress): boolean {
  return range.family === address.family && address.parsed.match(range.range)
}

/**
 * Parses the `ipport:` login_hint forms: `IP`, `IPv4:port`, `[IPv6]`, `[IPv6]:port`, and the
 * bare IPv6 form without brackets (some clients send it). The port is kept but not used to
 * identify devices.
 */
export function parseIpPort (text: string): { address: NetworkAddress, port?: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text)
  if (bracketed !== null) {
    const address = parseAddress(bracketed[1] ?? '', 'ipv6')
    return withPort(address, bracketed[2])
  }
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text)
  if (v4 !== null) return withPort(parseAddress(v4[1] ?? '', 'ipv4'), v4[2])
  const bare = parseAddress(text, 'ipv6')
  return bare === undefined ? undefined : { address: bare }
}

function withPort (address: NetworkAddress | undefined, port: string | undefined): { address: NetworkAddress, port?: number } | undefined {
  if (address === undefined) return undefined
  if (port === undefined) return { address }
  const value = Number(port)
  if (value < 1 || value > 65535) return undefined
  return { address, port: value }
}

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
  if (!ipaddr.isValid(candidate) || candidate.includes('%')) return undefined
  // ipaddr.js also reads `12345`, `1.2.3` and octal or hex parts (`010.1.1.1` is 8.1.1.1): no one means those
  if (ipaddr.IPv4.isValid(candidate) && !ipaddr.IPv4.isValidFourPartDecimal(candidate)) return undefined
  const parsed = ipaddr.parse(candidate)
  // The family is the one written: `[::ffff:a.b.c.d]` is an IPv6 literal, then normalised to IPv4
  if (family !== undefined && parsed.kind() !== family) return undefined
  return toAddress(parsed)
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
    // Addresses normalise IPv4-mapped IPv6 to IPv4, so ranges inside ::ffff:0:0/96 must too or they never match
    if (base.kind() === 'ipv6' && bits >= 96 && (base as ipaddr.IPv6).isIPv4MappedAddress()) {
      const v4 = (base as ipaddr.IPv6).toIPv4Address()
      return { family: 'ipv4', text: `${v4.toString()}/${bits - 96}`, range: [v4, bits - 96] }
    }
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

function withPort (
  address: NetworkAddress | undefined,
  port: string | undefined
): { address: NetworkAddress, port?: number } | undefined {
  if (address === undefined) return undefined
  if (port === undefined) return { address }
  const value = Number(port)
  if (value < 1 || value > 65535) return undefined
  return { address, port: value }
}

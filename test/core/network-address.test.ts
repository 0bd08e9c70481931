import t from 'tap'
import {
  parseAddress,
  parseIpPort,
  parseRange,
  rangeContains,
  type NetworkAddress,
  type NetworkRange
} from '../../src/core/network-address.js'

/** The parts of a parse result worth comparing (the ipaddr.js object is an implementation detail) */
function view (value: NetworkAddress | NetworkRange | undefined): { family: string, text: string } | undefined {
  return value === undefined ? undefined : { family: value.family, text: value.text }
}

function address (text: string): NetworkAddress {
  const parsed = parseAddress(text)
  if (parsed === undefined) throw new Error(`test address ${text} does not parse`)
  return parsed
}

function range (text: string): NetworkRange {
  const parsed = parseRange(text)
  if (parsed === undefined) throw new Error(`test range ${text} does not parse`)
  return parsed
}

t.test('parseAddress reads IPv4 dotted quads and trims surrounding space', async (t) => {
  t.strictSame(view(parseAddress('142.115.147.143')), { family: 'ipv4', text: '142.115.147.143' })
  t.strictSame(view(parseAddress('  142.115.147.143\n')), { family: 'ipv4', text: '142.115.147.143' })
  t.strictSame(view(parseAddress('142.115.147.143', 'ipv4')), { family: 'ipv4', text: '142.115.147.143' })
})

t.test('parseAddress writes IPv6 in RFC 5952 compact form, so one device has one spelling', async (t) => {
  t.strictSame(view(parseAddress('2001:4860:0007:0F04:0000:0000:0000:00FE')), {
    family: 'ipv6',
    text: '2001:4860:7:f04::fe'
  })
  t.strictSame(view(parseAddress('2001:4860:7:f04::fe', 'ipv6')), { family: 'ipv6', text: '2001:4860:7:f04::fe' })
  t.strictSame(view(parseAddress('::1')), { family: 'ipv6', text: '::1' })
})

t.test('parseAddress turns IPv4-mapped IPv6 into the IPv4 address (dual-stack sockets report those)', async (t) => {
  t.strictSame(view(parseAddress('::ffff:142.115.147.143')), { family: 'ipv4', text: '142.115.147.143' })
  t.strictSame(view(parseAddress('::ffff:8e73:938f')), { family: 'ipv4', text: '142.115.147.143' })
  t.strictSame(view(parseAddress('::ffff:142.115.147.143', 'ipv6')), { family: 'ipv4', text: '142.115.147.143' },
    'written as IPv6, so it passes an IPv6 family check, then normalises')
  t.equal(parseAddress('::ffff:142.115.147.143', 'ipv4'), undefined, 'not written as IPv4')
})

t.test('parseAddress rejects a family other than the one asked for', async (t) => {
  t.equal(parseAddress('142.115.147.143', 'ipv6'), undefined)
  t.equal(parseAddress('2001:db8::1', 'ipv4'), undefined)
})

t.test('parseAddress rejects what is not a plain address', async (t) => {
  for (const text of [
    '',
    'localhost',
    '256.1.1.1',
    '1.2.3.4.5',
    '142.115.147.143/32',
    '[2001:db8::1]',
    'fe80::1%eth0',
    '2001:db8::g'
  ]) {
    t.equal(parseAddress(text), undefined, JSON.stringify(text))
  }
})

t.test('parseAddress rejects the legacy IPv4 spellings ipaddr.js would read as other addresses', async (t) => {
  // 010.1.1.1 would be 8.1.1.1 (octal), 12345 would be 0.0.48.57, 1.2.3 would be 1.2.0.3
  for (const text of ['010.1.1.1', '12345', '1.2.3', '1.2', '0x8e.0x73.0x93.0x8f']) {
    t.equal(parseAddress(text), undefined, text)
    t.equal(parseAddress(text, 'ipv4'), undefined, `${text} as ipv4`)
  }
  t.strictSame(view(parseAddress('0.0.0.0')), { family: 'ipv4', text: '0.0.0.0' }, 'zero parts are fine')
})

t.test('parseRange reads CIDR ranges of both families', async (t) => {
  t.strictSame(view(parseRange('142.115.0.0/16')), { family: 'ipv4', text: '142.115.0.0/16' })
  t.strictSame(view(parseRange(' 2001:4860:7::/48 ')), { family: 'ipv6', text: '2001:4860:7::/48' })
  t.strictSame(view(parseRange('2401:4900:1c0a:02f3::/64')), { family: 'ipv6', text: '2401:4900:1c0a:2f3::/64' })
  t.strictSame(range('142.115.0.0/16').range[1], 16)
})

t.test('parseRange takes a single address as a /32 or /128', async (t) => {
  t.strictSame(view(parseRange('142.115.147.143')), { family: 'ipv4', text: '142.115.147.143/32' })
  t.strictSame(view(parseRange('2001:4860:7:f04::fe')), { family: 'ipv6', text: '2001:4860:7:f04::fe/128' })
  t.strictSame(view(parseRange('::ffff:142.115.147.143')), { family: 'ipv4', text: '142.115.147.143/32' })
})

t.test('parseRange maps IPv4-mapped IPv6 ranges to IPv4, as addresses are', async (t) => {
  t.strictSame(view(parseRange('::ffff:142.115.147.143/128')), { family: 'ipv4', text: '142.115.147.143/32' })
  t.strictSame(view(parseRange('::ffff:142.115.0.0/112')), { family: 'ipv4', text: '142.115.0.0/16' })
  t.ok(rangeContains(range('::ffff:142.115.0.0/112'), address('142.115.147.143')))
  t.ok(rangeContains(range('::ffff:142.115.0.0/112'), address('::ffff:142.115.147.143')))
  t.strictSame(
    view(parseRange('::ffff:0:0/95')),
    { family: 'ipv6', text: '::ffff:0:0/95' },
    'wider than the mapped block: stays IPv6'
  )
})

t.test('parseRange rejects malformed ranges', async (t) => {
  for (const text of [
    '',
    'x/8',
    '10/8',
    '010.0.0.0/8',
    '1.2.3.4/33',
    '2001:db8::/129',
    '1.2.3.4/',
    '/24',
    '1.2.3.4/-1',
    '12345',
    'not-an-address'
  ]) {
    t.equal(parseRange(text), undefined, JSON.stringify(text))
  }
})

t.test('rangeContains matches addresses inside the range and of the same family only', async (t) => {
  const operatorV4 = range('142.115.0.0/16')
  const operatorV6 = range('2001:4860:7::/48')
  t.equal(rangeContains(operatorV4, address('142.115.147.143')), true)
  t.equal(rangeContains(operatorV4, address('142.115.0.0')), true, 'network address')
  t.equal(rangeContains(operatorV4, address('142.115.255.255')), true, 'broadcast address')
  t.equal(rangeContains(operatorV4, address('142.116.0.0')), false, 'just outside')
  t.equal(rangeContains(operatorV4, address('::ffff:142.115.1.1')), true, 'IPv4-mapped form of an address inside')
  t.equal(rangeContains(operatorV6, address('2001:4860:7:f04::fe')), true)
  t.equal(rangeContains(operatorV6, address('2001:4860:8::1')), false)
  t.equal(rangeContains(operatorV4, address('2001:4860:7:f04::fe')), false, 'IPv6 address, IPv4 range')
  t.equal(rangeContains(operatorV6, address('142.115.147.143')), false, 'IPv4 address, IPv6 range')
  t.equal(rangeContains(range('142.115.147.143'), address('142.115.147.143')), true, 'single address range')
  t.equal(rangeContains(range('142.115.147.143'), address('142.115.147.144')), false)
})

t.test('parseIpPort reads every ipport: form of CAMARA', async (t) => {
  const read = (text: string): unknown => {
    const parsed = parseIpPort(text)
    return parsed === undefined ? undefined : { ...view(parsed.address), port: parsed.port }
  }
  t.strictSame(read('80.90.34.2'), { family: 'ipv4', text: '80.90.34.2', port: undefined })
  t.strictSame(read('80.90.34.2:16790'), { family: 'ipv4', text: '80.90.34.2', port: 16790 })
  t.strictSame(read('[2001:db8::1]'), { family: 'ipv6', text: '2001:db8::1', port: undefined })
  t.strictSame(read('[2001:db8::1]:8080'), { family: 'ipv6', text: '2001:db8::1', port: 8080 })
  t.strictSame(
    read('2001:db8::1'),
    { family: 'ipv6', text: '2001:db8::1', port: undefined },
    'bare IPv6 without brackets'
  )
  t.strictSame(read('[2001:DB8:0::1]'), { family: 'ipv6', text: '2001:db8::1', port: undefined })
  t.strictSame(
    read('[::ffff:142.115.147.143]:443'),
    { family: 'ipv4', text: '142.115.147.143', port: 443 },
    'IPv4-mapped literal'
  )
  t.strictSame(read('80.90.34.2:1'), { family: 'ipv4', text: '80.90.34.2', port: 1 })
  t.strictSame(read('80.90.34.2:65535'), { family: 'ipv4', text: '80.90.34.2', port: 65535 })
})

t.test('parseIpPort rejects malformed addresses and ports out of range', async (t) => {
  const bad = [
    '', '80.90.34.2:0', '80.90.34.2:65536', '80.90.34.2:123456', '80.90.34.2:', '80.90.34:80', '999.90.34.2',
    '010.90.34.2', '[80.90.34.2]', '[2001:db8::1]:0', '[2001:db8::1]:99999', '[2001:db8::1', '2001:db8::1:8080:1:2:3:4',
    'example.com', 'example.com:80', '80.90.34.2:http'
  ]
  for (const text of bad) t.equal(parseIpPort(text), undefined, JSON.stringify(text))
})

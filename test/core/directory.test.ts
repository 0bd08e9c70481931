import t from 'tap'
import { Directory } from '../../src/core/directory.js'
import { parseAddress, type NetworkAddress } from '../../src/core/network-address.js'
import { defaultFixtures, fixturesFrom } from './support.js'

function address (text: string): NetworkAddress {
  const parsed = parseAddress(text)
  if (parsed === undefined) throw new Error(`test address ${text} does not parse`)
  return parsed
}

const directory = new Directory(defaultFixtures())

t.test('counts what the default fixtures define', async (t) => {
  t.strictSame(directory.counts(), { operators: 2, clients: 3, subscribers: 7 })
})

t.test('looks up clients, operators and subscribers by their ids', async (t) => {
  t.equal(directory.client('demo-app')?.clientSecret, 'demo-secret')
  t.equal(directory.client('nobody'), undefined)
  t.equal(directory.operator('telco-in')?.name, 'Telco IN (emulated)')
  t.equal(directory.operator('nobody'), undefined)
  t.equal(directory.subscriber('+34666666666')?.operator, 'telco-es')
  t.equal(directory.subscriber('+34666666668'), undefined)
})

t.test('operatorForAddress finds the operator whose CIDR range holds the address, in both families', async (t) => {
  t.equal(directory.operatorForAddress(address('142.115.147.143'))?.id, 'telco-es')
  t.equal(directory.operatorForAddress(address('142.115.0.1'))?.id, 'telco-es')
  t.equal(directory.operatorForAddress(address('2001:4860:7:f04::fe'))?.id, 'telco-es')
  t.equal(
    directory.operatorForAddress(address('2001:4860:7:ffff:ffff:ffff:ffff:ffff'))?.id,
    'telco-es',
    'last address of the /48'
  )
  t.equal(directory.operatorForAddress(address('49.36.10.20'))?.id, 'telco-in')
  t.equal(directory.operatorForAddress(address('2401:4900:1c0a:2f3::1'))?.id, 'telco-in')
  t.equal(directory.operatorForAddress(address('::ffff:49.36.10.20'))?.id, 'telco-in', 'IPv4-mapped IPv6')
})

t.test('operatorForAddress finds nothing outside every range', async (t) => {
  t.equal(directory.operatorForAddress(address('142.116.0.1')), undefined)
  t.equal(
    directory.operatorForAddress(address('81.40.12.34')),
    undefined,
    'the WiFi subscriber is off every mobile network'
  )
  t.equal(directory.operatorForAddress(address('2001:4860:8::1')), undefined)
})

t.test('operatorForAddress picks the most specific of overlapping ranges, whatever the fixture order', async (t) => {
  const nested = new Directory(fixturesFrom({
    operators: [
      { id: 'host', name: 'Host network', ipRanges: ['10.0.0.0/8', '2001:db8::/32'] },
      { id: 'mvno', name: 'MVNO', ipRanges: ['10.20.0.0/16', '2001:db8:20::/48'] },
      { id: 'mvno-lab', name: 'MVNO lab', ipRanges: ['10.20.30.0/24'] }
    ]
  }))
  t.equal(nested.operatorForAddress(address('10.1.1.1'))?.id, 'host')
  t.equal(nested.operatorForAddress(address('10.20.1.1'))?.id, 'mvno')
  t.equal(nested.operatorForAddress(address('10.20.30.1'))?.id, 'mvno-lab')
  t.equal(nested.operatorForAddress(address('2001:db8:20::1'))?.id, 'mvno')
  t.equal(nested.operatorForAddress(address('2001:db8:21::1'))?.id, 'host')
})

t.test('operatorForNumber picks the longest matching number prefix, whatever the fixture order', async (t) => {
  const mvno = new Directory(fixturesFrom({
    operators: [
      { id: 'telco-es', name: 'Telco ES', numberPrefixes: ['+34'] },
      { id: 'mvno-es', name: 'MVNO ES', numberPrefixes: ['+34600', '+3471'] },
      { id: 'telco-es-6', name: 'Telco ES 6', numberPrefixes: ['+346'] }
    ]
  }))
  t.equal(mvno.operatorForNumber('+34600000002')?.id, 'mvno-es')
  t.equal(mvno.operatorForNumber('+34610000000')?.id, 'telco-es-6')
  t.equal(mvno.operatorForNumber('+34710000000')?.id, 'mvno-es')
  t.equal(mvno.operatorForNumber('+34910000000')?.id, 'telco-es')
  t.equal(mvno.operatorForNumber('+4412345678'), undefined)
  t.equal(directory.operatorForNumber('+919000000000')?.id, 'telco-in')
})

t.test('subscriberForAddress finds single IPv4 and IPv6 addresses, however the IPv6 is spelled', async (t) => {
  t.equal(directory.subscriberForAddress(address('142.115.147.143'))?.msisdn, '+34666666666')
  t.equal(directory.subscriberForAddress(address('142.115.147.144'))?.msisdn, '+34666666667')
  t.equal(directory.subscriberForAddress(address('2001:4860:7:f04::fe'))?.msisdn, '+34666666666')
  t.equal(directory.subscriberForAddress(address('2001:4860:0007:0F04:0000:0000:0000:00FE'))?.msisdn, '+34666666666')
  t.equal(
    directory.subscriberForAddress(address('81.40.12.34'))?.msisdn,
    '+34600000002',
    'found whatever its operator or connection'
  )
  t.equal(directory.subscriberForAddress(address('142.115.147.145')), undefined)
})

t.test('subscriberForAddress matches a device address inside a subscriber IPv6 /64 prefix', async (t) => {
  t.equal(directory.subscriberForAddress(address('2401:4900:1c0a:2f3::'))?.msisdn, '+919036499174')
  t.equal(directory.subscriberForAddress(address('2401:4900:1c0a:2f3:1234:5678:9abc:def0'))?.msisdn, '+919036499174')
  t.equal(directory.subscriberForAddress(address('2401:4900:1c0a:2f3:ffff:ffff:ffff:ffff'))?.msisdn, '+919036499174')
  t.equal(directory.subscriberForAddress(address('2401:4900:1c0a:2f4::1')), undefined, 'next /64')
  t.equal(directory.subscriberForAddress(address('2401:4900:1c0a:2f2:ffff:ffff:ffff:ffff')), undefined, 'previous /64')
  t.equal(directory.subscriberForAddress(address('49.36.10.20'))?.msisdn, '+919036499174', 'its IPv4 address as well')
})

t.test('subscriberForAddress normalises IPv4-mapped IPv6 on both the device and the fixture side', async (t) => {
  t.equal(directory.subscriberForAddress(address('::ffff:142.115.147.143'))?.msisdn, '+34666666666')
  const mapped = new Directory(fixturesFrom({
    operators: [{ id: 'op', name: 'Op' }],
    subscribers: [
      { msisdn: '+34611111111', operator: 'op', ipv4: ['::ffff:81.40.12.99'], connection: 'mobile-data' },
      { msisdn: '+34611111112', operator: 'op', ipv4: ['10.20.0.0/24'], connection: 'mobile-data' },
      { msisdn: '+34611111113', operator: 'op', ipv4: ['::ffff:10.30.0.0/120'], connection: 'mobile-data' }
    ]
  }))
  t.equal(mapped.subscriberForAddress(address('81.40.12.99'))?.msisdn, '+34611111111')
  t.equal(mapped.subscriberForAddress(address('::ffff:81.40.12.99'))?.msisdn, '+34611111111')
  t.equal(mapped.subscriberForAddress(address('10.20.0.200'))?.msisdn, '+34611111112', 'IPv4 CIDR subscriber')
  t.equal(mapped.subscriberForAddress(address('::ffff:10.20.0.1'))?.msisdn, '+34611111112')
  t.equal(mapped.subscriberForAddress(address('10.30.0.255'))?.msisdn, '+34611111113', 'mapped range given as IPv6')
  t.equal(mapped.subscriberForAddress(address('10.30.1.0')), undefined)
  t.equal(mapped.subscriberForAddress(address('10.20.1.0')), undefined)
})

t.test('keeps the fixtures it was built from', async (t) => {
  const fixtures = defaultFixtures()
  t.equal(new Directory(fixtures).fixtures, fixtures)
  t.equal(directory.fixtures.defaultOperator, 'telco-es')
})

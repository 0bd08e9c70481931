import t from 'tap'
import { Directory } from '../../src/core/directory.js'
import { loadFixtures } from '../../src/config/fixtures.js'
import { DEFAULT_FIXTURES } from '../../src/config/config.js'
import { concreteAddress, deviceOptions, deviceParameters } from '../../src/demo/devices.js'
import type { DemoChoices } from '../../src/demo/attempts.js'

const directory = new Directory(loadFixtures([DEFAULT_FIXTURES]))
const choices = (device: string, hint: 'konera' | 'ipport' = 'konera'): DemoChoices => ({
  device,
  claimed: device,
  hint,
  scenario: '',
  promptNone: false
})

t.test('a concrete address for each fixture spelling', async (t) => {
  t.equal(concreteAddress('142.115.147.143'), '142.115.147.143')
  t.equal(concreteAddress('2001:4860:7:f04::fe'), '2001:4860:7:f04::fe')
  t.equal(concreteAddress('10.20.0.0/16'), '10.20.0.1', 'the first host of a range')
  t.equal(concreteAddress('2401:4900:1c0a:2f3::/64'), '2401:4900:1c0a:2f3::1')
  t.equal(concreteAddress('::ffff:10.0.0.0/104'), '10.0.0.1', 'IPv4-mapped ranges are IPv4')
  t.equal(concreteAddress('not an address'), undefined)
})

t.test('how the app names each device', async (t) => {
  t.strictSame(deviceParameters(directory, choices('+34666666666')), {
    konera_context: 'ipv4:142.115.147.143,ipv6:2001:4860:7:f04::fe'
  })
  t.strictSame(deviceParameters(directory, choices('+919036499174')), {
    konera_context: 'ipv4:49.36.10.20,ipv6:2401:4900:1c0a:2f3::1'
  })
  t.strictSame(deviceParameters(directory, choices('+34666666667', 'ipport')), { login_hint: 'ipport:142.115.147.144' })
  t.strictSame(deviceParameters(directory, choices('browser')), {}, "the browser's own address needs no hint")
  t.strictSame(deviceParameters(directory, choices('+10000000000')), {}, 'an unknown device is not named')

  const ipv6Only = new Directory(loadFixtures([DEFAULT_FIXTURES]))
  const fixtures = structuredClone(ipv6Only.fixtures)
  fixtures.subscribers.push({
    msisdn: '+34611111111',
    operator: 'telco-es',
    ipv4: [],
    ipv6: ['2001:4860:7:1::/64'],
    connection: 'mobile-data',
    authMethods: ['network']
  })
  fixtures.subscribers.push({
    msisdn: '+34611111112',
    operator: 'telco-es',
    ipv4: [],
    ipv6: [],
    connection: 'mobile-data',
    authMethods: ['network']
  })
  const world = new Directory(fixtures)
  t.strictSame(deviceParameters(world, choices('+34611111111', 'ipport')), { login_hint: 'ipport:[2001:4860:7:1::1]' })
  t.strictSame(
    deviceParameters(world, choices('+34611111112')),
    { login_hint: 'tel:+34611111112' },
    'without addresses only the number can name it'
  )
})

t.test('the choices: the browser first, then every subscriber grouped by operator', async (t) => {
  const options = deviceOptions(directory)
  t.strictSame(options[0], { value: 'browser', label: "This browser's own address (as the emulator sees it)" })
  t.strictSame(options[1], {
    value: '+34666666666',
    label: '+34666666666 · Seed example: mobile data, network-authenticated',
    msisdn: '+34666666666',
    group: 'Telco ES (emulated)'
  })
  t.equal(options.length, 8)
  t.equal(options.find((o) => o.value === '+919036499174')?.group, 'Telco IN (emulated)')
})

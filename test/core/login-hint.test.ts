import t from 'tap'
import {
  HintError,
  parseKoneraContext,
  parseLoginHint,
  type KoneraContext,
  type LoginHint
} from '../../src/core/login-hint.js'

/** Hints with addresses reduced to their family and text, for exact comparison */
function view (hint: LoginHint): unknown {
  return hint.kind === 'ipport'
    ? { kind: hint.kind, family: hint.address.family, text: hint.address.text, port: hint.port }
    : hint
}

function viewKonera (context: KoneraContext): unknown {
  return {
    ipv4: context.ipv4 === undefined ? undefined : { family: context.ipv4.family, text: context.ipv4.text },
    ipv6: context.ipv6 === undefined ? undefined : { family: context.ipv6.family, text: context.ipv6.text },
    scenarios: context.scenarios,
    extra: context.extra
  }
}

function hintError (fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (error instanceof HintError) return error.message
    throw error
  }
  throw new Error('expected a HintError')
}

t.test('a tel: hint and a bare + number both name the number', async (t) => {
  t.strictSame(parseLoginHint('tel:+34666666666'), { kind: 'tel', msisdn: '+34666666666' })
  t.strictSame(parseLoginHint('+34666666666'), { kind: 'tel', msisdn: '+34666666666' })
})

t.test('a tel: hint that is not E.164 is a client error worth reporting', async (t) => {
  t.equal(
    hintError(() => parseLoginHint('tel:34666666666')),
    'login_hint "tel:34666666666" is not tel:+E.164 (e.g. tel:+34666666666)'
  )
  t.equal(hintError(() => parseLoginHint('tel:')), 'login_hint "tel:" is not tel:+E.164 (e.g. tel:+34666666666)')
  t.equal(
    hintError(() => parseLoginHint('+34 666 666 666')),
    'login_hint "+34 666 666 666" is not tel:+E.164 (e.g. tel:+34666666666)'
  )
  t.equal(hintError(() => parseLoginHint('+')), 'login_hint "+" is not tel:+E.164 (e.g. tel:+34666666666)')
})

t.test('ipport: hints carry the address and the port', async (t) => {
  t.strictSame(view(parseLoginHint('ipport:80.90.34.2')), {
    kind: 'ipport',
    family: 'ipv4',
    text: '80.90.34.2',
    port: undefined
  })
  t.strictSame(view(parseLoginHint('ipport:80.90.34.2:16790')), {
    kind: 'ipport',
    family: 'ipv4',
    text: '80.90.34.2',
    port: 16790
  })
  t.strictSame(view(parseLoginHint('ipport:[2001:db8::1]')), {
    kind: 'ipport',
    family: 'ipv6',
    text: '2001:db8::1',
    port: undefined
  })
  t.strictSame(view(parseLoginHint('ipport:[2001:db8::1]:8080')), {
    kind: 'ipport',
    family: 'ipv6',
    text: '2001:db8::1',
    port: 8080
  })
  t.strictSame(view(parseLoginHint('ipport:2001:db8::1')), {
    kind: 'ipport',
    family: 'ipv6',
    text: '2001:db8::1',
    port: undefined
  })
})

t.test('a malformed ipport: hint is an error', async (t) => {
  t.equal(
    hintError(() => parseLoginHint('ipport:80.90.34.2:0')),
    'login_hint "ipport:80.90.34.2:0" is not ipport:IPv4[:port] or ipport:[IPv6][:port]'
  )
  t.equal(
    hintError(() => parseLoginHint('ipport:')),
    'login_hint "ipport:" is not ipport:IPv4[:port] or ipport:[IPv6][:port]'
  )
  t.equal(
    hintError(() => parseLoginHint('ipport:example.com')),
    'login_hint "ipport:example.com" is not ipport:IPv4[:port] or ipport:[IPv6][:port]'
  )
})

t.test('an operatortoken: hint keeps the opaque token', async (t) => {
  t.strictSame(parseLoginHint('operatortoken:abc:def'), { kind: 'operatortoken', token: 'abc:def' })
})

t.test('other forms are unsupported and kept, never an error (CAMARA recommends ignoring them)', async (t) => {
  t.strictSame(parseLoginHint('operatortoken:'), { kind: 'unsupported', value: 'operatortoken:' }, 'an empty token')
  t.strictSame(parseLoginHint('user@example.com'), { kind: 'unsupported', value: 'user@example.com' })
  t.strictSame(parseLoginHint('TEL:+34666666666'), { kind: 'unsupported', value: 'TEL:+34666666666' })
  t.strictSame(parseLoginHint('34666666666'), { kind: 'unsupported', value: '34666666666' })
})

t.test(
  'konera_context gives the IPv4 and IPv6 addresses, in either order, scenarios, and keeps other entries',
  async (t) => {
    t.strictSame(viewKonera(parseKoneraContext('ipv4:142.115.147.143,ipv6:2001:4860:7:f04::fe')), {
      ipv4: { family: 'ipv4', text: '142.115.147.143' },
      ipv6: { family: 'ipv6', text: '2001:4860:7:f04::fe' },
      scenarios: [],
      extra: {}
    })
    t.strictSame(
      viewKonera(parseKoneraContext(' ipv6:2001:4860:0007:0f04::00fe , region:eu-west:1,ipv4:142.115.147.143,')),
      {
        ipv4: { family: 'ipv4', text: '142.115.147.143' },
        ipv6: { family: 'ipv6', text: '2001:4860:7:f04::fe' },
        scenarios: [],
        extra: { region: 'eu-west:1' }
      }
    )
    t.strictSame(viewKonera(parseKoneraContext('')), { ipv4: undefined, ipv6: undefined, scenarios: [], extra: {} })
    t.strictSame(viewKonera(parseKoneraContext('ipv4:49.36.10.20')), {
      ipv4: { family: 'ipv4', text: '49.36.10.20' },
      ipv6: undefined,
      scenarios: [],
      extra: {}
    })
  }
)

t.test('konera_context scenario: entries repeat or join names with +', async (t) => {
  t.strictSame(parseKoneraContext('scenario:slow+flaky,ipv4:142.115.147.143,scenario: timeout ,scenario:').scenarios, [
    'slow',
    'flaky',
    'timeout'
  ])
})

t.test('konera_context entries that are not key:value, repeated or malformed are errors', async (t) => {
  t.equal(hintError(() => parseKoneraContext('ipv4')), 'konera_context entry "ipv4" is not key:value')
  t.equal(
    hintError(() => parseKoneraContext(':142.115.147.143')),
    'konera_context entry ":142.115.147.143" is not key:value'
  )
  t.equal(
    hintError(() => parseKoneraContext('ipv4:142.115.147.143,ipv4:142.115.147.144')),
    'konera_context has ipv4 twice'
  )
  t.equal(hintError(() => parseKoneraContext('ipv6:2001:db8::1,ipv6:2001:db8::2')), 'konera_context has ipv6 twice')
  t.equal(
    hintError(() => parseKoneraContext('ipv4:2001:db8::1')),
    'konera_context ipv4 "2001:db8::1" is not a valid IPv4 address'
  )
  t.equal(
    hintError(() => parseKoneraContext('ipv4:142.115.147')),
    'konera_context ipv4 "142.115.147" is not a valid IPv4 address'
  )
  t.equal(
    hintError(() => parseKoneraContext('ipv6:142.115.147.143')),
    'konera_context ipv6 "142.115.147.143" is not a valid IPv6 address'
  )
  t.equal(hintError(() => parseKoneraContext('ipv6:')), 'konera_context ipv6 "" is not a valid IPv6 address')
})

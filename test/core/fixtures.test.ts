import { join } from 'node:path'
import t, { type Test } from 'tap'
import { DEFAULT_FIXTURES } from '../../src/config/config.js'
import {
  checkClient, FixtureError, mergeFixtures, toJsonPath, validateFixtureDocument
} from '../../src/core/fixtures.js'
import { loadFixtures, readFixtureFile } from '../../src/config/fixtures.js'

interface Problem {
  file: string
  jsonPath: string
  rule: string
}

function problem (fn: () => unknown): Problem & { message: string } {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof FixtureError)) throw error
    return { file: error.file, jsonPath: error.jsonPath, rule: error.rule, message: error.message }
  }
  throw new Error('expected a FixtureError')
}

/** The problem of loading these fixture documents, written as files of a test directory */
function loadProblem (t: Test, files: Record<string, unknown>): Problem {
  const dir = t.testdir(Object.fromEntries(Object.entries(files).map(([name, content]) =>
    [name, typeof content === 'string' ? content : JSON.stringify(content)])))
  const found = problem(() => loadFixtures(Object.keys(files).map((name) => join(dir, name))))
  t.equal(found.message, `${found.file}: ${found.jsonPath}: ${found.rule}`, 'the message says all three')
  return { file: found.file.slice(dir.length + 1), jsonPath: found.jsonPath, rule: found.rule }
}

const OPERATOR = { id: 'telco-es', name: 'Telco ES', numberPrefixes: ['+34'], ipRanges: ['142.115.0.0/16'] }
const SUBSCRIBER = {
  msisdn: '+34666666666',
  operator: 'telco-es',
  ipv4: ['142.115.147.143'],
  connection: 'mobile-data'
}
const CLIENT = { clientId: 'app', clientSecret: 's', redirectUris: ['http://localhost:3000/callback'], scopes: ['number-verification:verify'], tokenEndpointAuthMethods: ['client_secret_post'] }
const PUBLIC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'M0MPPnMm-GEE9a1RQr0APimlRnjx7QHUK2gs8TrsLPs',
  y: 'fopTAkg6nlwAkncFXMI9nIVSlh4_eS59Ow7UPUgU7VM'
}

function world (changes: Record<string, unknown> = {}): Record<string, unknown> {
  return { operators: [OPERATOR], clients: [CLIENT], subscribers: [SUBSCRIBER], ...changes }
}

t.test('the default fixtures load cleanly, with schema defaults applied', async (t) => {
  const fixtures = loadFixtures([DEFAULT_FIXTURES])
  t.strictSame(fixtures.files, [DEFAULT_FIXTURES])
  t.equal(fixtures.defaultOperator, 'telco-es')
  t.strictSame(fixtures.operators.map((o) => [o.id, o.trustsLoginHint]), [['telco-es', false], ['telco-in', false]])
  t.strictSame(fixtures.clients.map((c) => [c.clientId, c.requirePkce]),
    [['demo-app', false], ['demo-app-jwt', true], ['demo-web', true]])
  t.strictSame(fixtures.subscribers.map((s) => s.msisdn), [
    '+34666666666', '+34666666667', '+919036499174', '+34600000002', '+34600000003', '+34600000004', '+34600000005'
  ])
})

t.test('validateFixtureDocument fills defaults without touching the document it was given', async (t) => {
  const document = {
    operators: [{ id: 'op', name: 'Op' }],
    subscribers: [{ msisdn: '+34666666666', operator: 'op', connection: 'wifi' }]
  }
  const snapshot = structuredClone(document)
  const valid = validateFixtureDocument('f.json', document)
  t.strictSame(valid, {
    operators: [{ id: 'op', name: 'Op', numberPrefixes: [], ipRanges: [], trustsLoginHint: false }],
    clients: [],
    subscribers: [
      { msisdn: '+34666666666', operator: 'op', ipv4: [], ipv6: [], connection: 'wifi', authMethods: ['network'] }
    ],
    scenarios: []
  })
  t.strictSame(document, snapshot)
  t.strictSame(validateFixtureDocument('empty.json', {}),
    { operators: [], clients: [], subscribers: [], scenarios: [] })
})

t.test('files merge in order: later files may use earlier operators, the last defaultOperator wins', async (t) => {
  const dir = t.testdir({
    'operators.json': JSON.stringify({
      defaultOperator: 'telco-es',
      operators: [OPERATOR, { id: 'telco-in', name: 'Telco IN' }]
    }),
    'world.json': JSON.stringify({ defaultOperator: 'telco-in', clients: [CLIENT], subscribers: [SUBSCRIBER] }),
    'more.json': JSON.stringify({
      subscribers: [{ ...SUBSCRIBER, msisdn: '+34666666667', ipv4: [], operator: 'telco-in' }]
    })
  })
  const files = ['operators.json', 'world.json', 'more.json'].map((name) => join(dir, name))
  const fixtures = loadFixtures(files)
  t.strictSame(fixtures.files, files)
  t.equal(fixtures.defaultOperator, 'telco-in')
  t.strictSame(fixtures.operators.map((o) => o.id), ['telco-es', 'telco-in'])
  t.strictSame(fixtures.subscribers.map((s) => s.msisdn), ['+34666666666', '+34666666667'])
})

t.test('file errors', async (t) => {
  t.test('bad JSON', async (t) => {
    const found = loadProblem(t, { 'broken.json': '{ "operators": [ }' })
    t.equal(found.file, 'broken.json')
    t.equal(found.jsonPath, '$')
    t.match(found.rule, /^is not valid JSON \(.+\)$/)
  })

  t.test('an unreadable file', async (t) => {
    t.strictSame(problem(() => readFixtureFile('/nonexistent/fixtures.json')), {
      file: '/nonexistent/fixtures.json',
      jsonPath: '$',
      rule: 'cannot be read (ENOENT)',
      message: '/nonexistent/fixtures.json: $: cannot be read (ENOENT)'
    })
  })

  t.test('a deeply nested document names the file and where, not a stack overflow', async (t) => {
    const deep = `{"operators":${'['.repeat(100_000)}${']'.repeat(100_000)}}`
    t.strictSame(loadProblem(t, { 'deep.json': deep }), {
      file: 'deep.json',
      jsonPath: `$.operators${'[0]'.repeat(63)}`,
      rule: 'nests deeper than 64 levels'
    })
    const nested: Record<string, unknown> = {}
    let inner = nested
    for (let i = 0; i < 70; i++) inner = (inner['a/b'] = {}) as Record<string, unknown>
    t.strictSame(problem(() => validateFixtureDocument('inline', { ...world(), extra: nested })).jsonPath,
      `$.extra${'["a/b"]'.repeat(63)}`)
    t.strictSame(problem(() => validateFixtureDocument('inline', world({ x: nested }))).rule,
      'nests deeper than 64 levels')
  })

  t.test('a document that is not an object', async (t) => {
    for (const content of ['[]', 'null', '"fixtures"', '42']) {
      t.strictSame(loadProblem(t, { 'f.json': content }), {
        file: 'f.json',
        jsonPath: '$',
        rule: 'must be a JSON object with operators, clients and subscribers'
      }, content)
    }
  })
})

t.test('schema errors name the JSON path and the rule', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['unknown top-level property', world({ subscriber: [] }), '$.subscriber', 'unknown property "subscriber"'],
    ['unknown property in an entity', world({ clients: [{ ...CLIENT, secret: 'x' }] }), '$.clients[0].secret',
      'unknown property "secret"'],
    ['unknown property needing brackets', world({ 'x-note': 1 }), '$["x-note"]', 'unknown property "x-note"'],
    ['bad msisdn pattern, third subscriber', world({
      subscribers: [
        SUBSCRIBER,
        { ...SUBSCRIBER, msisdn: '+34666666667', ipv4: [] },
        { ...SUBSCRIBER, msisdn: '0034666666668', ipv4: [] }
      ]
    }), '$.subscribers[2].msisdn', 'must match pattern ^\\+[1-9][0-9]{4,14}$'],
    ['bad operator id pattern', world({ operators: [{ ...OPERATOR, id: 'Telco ES' }] }), '$.operators[0].id',
      'must match pattern ^[a-z0-9][a-z0-9-]{0,62}$'],
    ['bad number prefix', world({ operators: [{ ...OPERATOR, numberPrefixes: ['34'] }] }),
      '$.operators[0].numberPrefixes[0]', 'must match pattern ^\\+[0-9]{1,15}$'],
    ['missing required property', world({ operators: [{ id: 'telco-es' }] }), '$.operators[0].name', 'is required'],
    ['wrong type', world({ operators: 'telco-es' }), '$.operators', 'expected array'],
    ['unknown connection', world({ subscribers: [{ ...SUBSCRIBER, connection: 'cable' }] }),
      '$.subscribers[0].connection',
      'must be one of "mobile-data", "wifi", "hotspot", "vpn" (Only mobile-data can be authenticated by the network)'],
    ['unknown auth method', world({ subscribers: [{ ...SUBSCRIBER, authMethods: ['network', 'face-id'] }] }),
      '$.subscribers[0].authMethods[1]',
      'must be one of "network", "sms-otp", "sim" (network: network-based authentication; sms-otp: interactive ' +
      'fallback; sim: SIM-based authentication (EAP-AKA, GSMA TS.43 operator tokens), on any connection)'],
    ['unknown token endpoint auth method', world({ clients: [{ ...CLIENT, tokenEndpointAuthMethods: ['none'] }] }),
      '$.clients[0].tokenEndpointAuthMethods[0]',
      'must be one of "client_secret_post", "client_secret_basic", "private_key_jwt"'],
    ['no redirect URI', world({ clients: [{ ...CLIENT, redirectUris: [] }] }), '$.clients[0].redirectUris',
      'expected array length to be greater or equal to 1']
  ]
  for (const [name, document, jsonPath, rule] of cases) {
    t.strictSame(loadProblem(t, { 'world.json': document }), { file: 'world.json', jsonPath, rule }, name)
  }
})

t.test('cross-reference errors', async (t) => {
  t.test('a subscriber of an unknown operator', async (t) => {
    t.strictSame(loadProblem(t, { 'world.json': world({ subscribers: [{ ...SUBSCRIBER, operator: 'telco-fr' }] }) }), {
      file: 'world.json',
      jsonPath: '$.subscribers[0].operator',
      rule: 'unknown operator "telco-fr"; known: telco-es'
    })
    t.strictSame(loadProblem(t, { 'world.json': { subscribers: [SUBSCRIBER] } }),
      { file: 'world.json', jsonPath: '$.subscribers[0].operator', rule: 'unknown operator "telco-es"; known: none' })
  })

  t.test('an unknown default operator, blamed on the last file that set it', async (t) => {
    t.strictSame(loadProblem(t, {
      'a.json': world({ defaultOperator: 'telco-es' }),
      'b.json': { defaultOperator: 'telco-fr' },
      'c.json': {}
    }), { file: 'b.json', jsonPath: '$.defaultOperator', rule: 'unknown operator "telco-fr"' })
  })

  t.test('duplicate msisdn, in one file or across files', async (t) => {
    t.strictSame(loadProblem(t, { 'world.json': world({ subscribers: [SUBSCRIBER, { ...SUBSCRIBER, ipv4: [] }] }) }), {
      file: 'world.json',
      jsonPath: '$.subscribers[1].msisdn',
      rule: `duplicate msisdn "+34666666666" (first defined in ${t.testdirName}/world.json)`
    })
    t.strictSame(loadProblem(t, { 'a.json': world(), 'b.json': { subscribers: [{ ...SUBSCRIBER, ipv4: [] }] } }), {
      file: 'b.json',
      jsonPath: '$.subscribers[0].msisdn',
      rule: `duplicate msisdn "+34666666666" (first defined in ${t.testdirName}/a.json)`
    })
  })

  t.test('duplicate clientId and operator id', async (t) => {
    t.strictSame(loadProblem(t, { 'a.json': world(), 'b.json': { clients: [{ ...CLIENT, name: 'again' }] } }), {
      file: 'b.json',
      jsonPath: '$.clients[0].clientId',
      rule: `duplicate clientId "app" (first defined in ${t.testdirName}/a.json)`
    })
    t.strictSame(loadProblem(t, { 'a.json': world({ operators: [OPERATOR, { ...OPERATOR, name: 'again' }] }) }), {
      file: 'a.json',
      jsonPath: '$.operators[1].id',
      rule: `duplicate operator id "telco-es" (first defined in ${t.testdirName}/a.json)`
    })
  })

  t.test('an address used by two subscribers, however it is spelled', async (t) => {
    const second = { ...SUBSCRIBER, msisdn: '+34666666667' }
    t.strictSame(loadProblem(t, { 'world.json': world({ subscribers: [SUBSCRIBER, second] }) }), {
      file: 'world.json',
      jsonPath: '$.subscribers[1].ipv4[0]',
      rule: 'address "142.115.147.143" is already used by +34666666666'
    })
    t.strictSame(loadProblem(t, {
      'world.json': world({ subscribers: [SUBSCRIBER, { ...second, ipv4: ['::ffff:142.115.147.143'] }] })
    }), {
      file: 'world.json',
      jsonPath: '$.subscribers[1].ipv4[0]',
      rule: 'address "::ffff:142.115.147.143" is already used by +34666666666'
    })
    t.strictSame(loadProblem(t, {
      'world.json': world({
        subscribers: [
          { ...SUBSCRIBER, ipv6: ['2001:db8::1'] },
          { ...second, ipv4: [], ipv6: ['2001:0db8:0::0001/128'] }
        ]
      })
    }), {
      file: 'world.json',
      jsonPath: '$.subscribers[1].ipv6[0]',
      rule: 'address "2001:0db8:0::0001/128" is already used by +34666666666'
    })
  })

  t.test('a bad CIDR range or address', async (t) => {
    t.strictSame(loadProblem(t, {
      'world.json': world({ operators: [{ ...OPERATOR, ipRanges: ['142.115.0.0/16', '142.115.0.0/33'] }] })
    }), {
      file: 'world.json',
      jsonPath: '$.operators[0].ipRanges[1]',
      rule: '"142.115.0.0/33" is not an IPv4 or IPv6 CIDR range'
    })
    t.strictSame(loadProblem(t, { 'world.json': world({ operators: [{ ...OPERATOR, ipRanges: ['010.0.0.0/8'] }] }) }), {
      file: 'world.json',
      jsonPath: '$.operators[0].ipRanges[0]',
      rule: '"010.0.0.0/8" is not an IPv4 or IPv6 CIDR range'
    })
    t.strictSame(loadProblem(t, {
      'world.json': world({ subscribers: [{ ...SUBSCRIBER, ipv4: ['142.115.147.143', '2001:db8::1'] }] })
    }), {
      file: 'world.json',
      jsonPath: '$.subscribers[0].ipv4[1]',
      rule: '"2001:db8::1" is not an IPv4 address or CIDR range'
    })
    t.strictSame(loadProblem(t, {
      'world.json': world({ subscribers: [{ ...SUBSCRIBER, ipv6: ['2001:db8::/64', 'fe80::1%eth0'] }] })
    }), {
      file: 'world.json',
      jsonPath: '$.subscribers[0].ipv6[1]',
      rule: '"fe80::1%eth0" is not an IPv6 address or CIDR range'
    })
    t.strictSame(loadProblem(t, { 'world.json': world({ subscribers: [{ ...SUBSCRIBER, ipv4: ['12345'] }] }) }), {
      file: 'world.json',
      jsonPath: '$.subscribers[0].ipv4[0]',
      rule: '"12345" is not an IPv4 address or CIDR range'
    })
  })
})

t.test('client rules the schema cannot express', async (t) => {
  t.test('a secret method needs clientSecret', async (t) => {
    const { clientSecret: _secret, ...noSecret } = CLIENT
    t.strictSame(loadProblem(t, {
      'world.json': world({
        clients: [CLIENT, { ...noSecret, clientId: 'basic-app', tokenEndpointAuthMethods: ['client_secret_basic'] }]
      })
    }), {
      file: 'world.json',
      jsonPath: '$.clients[1].clientSecret',
      rule: 'is required by client_secret_post / client_secret_basic'
    })
  })

  t.test('private_key_jwt needs a jwks of public keys', async (t) => {
    const jwtClient = { clientId: 'jwt-app', redirectUris: ['http://localhost:3000/callback'], scopes: [], tokenEndpointAuthMethods: ['private_key_jwt'] }
    t.strictSame(loadProblem(t, { 'world.json': world({ clients: [jwtClient] }) }),
      { file: 'world.json', jsonPath: '$.clients[0].jwks', rule: 'is required by private_key_jwt' })
    t.strictSame(loadProblem(t, {
      'world.json': world({
        clients: [{
          ...jwtClient,
          jwks: { keys: [PUBLIC_JWK, { ...PUBLIC_JWK, d: 'mpj54wnz2f5qvjI3UkjkDX2sMJg_olCXRyOs4I4eIPE' }] }
        }]
      })
    }), {
      file: 'world.json',
      jsonPath: '$.clients[0].jwks.keys[1].d',
      rule: 'must not be present: register public keys only'
    })
    t.strictSame(loadProblem(t, {
      'world.json': world({ clients: [{ ...jwtClient, jwks: { keys: [{ crv: 'P-256' }] } }] })
    }), { file: 'world.json', jsonPath: '$.clients[0].jwks.keys[0].kty', rule: 'is required (a public JWK)' })
    t.strictSame(loadProblem(t, { 'world.json': world({ clients: [{ ...jwtClient, jwks: { keys: [] } }] }) }), {
      file: 'world.json',
      jsonPath: '$.clients[0].jwks.keys',
      rule: 'expected array length to be greater or equal to 1'
    })
    t.doesNotThrow(() => checkClient('f.json', '$.clients[0]', {
      ...jwtClient,
      tokenEndpointAuthMethods: ['private_key_jwt'],
      jwks: { keys: [PUBLIC_JWK] },
      requirePkce: false
    }))
  })

  t.test('redirect URIs are absolute or start with one /, and have no fragment', async (t) => {
    t.strictSame(loadProblem(t, {
      'world.json': world({ clients: [{ ...CLIENT, redirectUris: ['http://localhost:3000/callback', 'callback'] }] })
    }), {
      file: 'world.json',
      jsonPath: '$.clients[0].redirectUris[1]',
      rule: '"callback" is not an absolute URL nor a path starting with /'
    })
    t.strictSame(loadProblem(t, {
      'world.json': world({ clients: [{ ...CLIENT, redirectUris: ['//elsewhere.example/callback'] }] })
    }), {
      file: 'world.json',
      jsonPath: '$.clients[0].redirectUris[0]',
      rule: '"//elsewhere.example/callback" is not an absolute URL nor a path starting with /'
    })
    t.strictSame(loadProblem(t, {
      'world.json': world({ clients: [{ ...CLIENT, redirectUris: ['/demo/callback#done'] }] })
    }), { file: 'world.json', jsonPath: '$.clients[0].redirectUris[0]', rule: 'must not contain a fragment' })
    t.equal(mergeFixtures([{
      file: 'f.json',
      content: validateFixtureDocument('f.json', world({ clients: [{ ...CLIENT, redirectUris: ['/demo/callback'] }] }))
    }]).clients.length, 1, 'a path is relative to the public URL')
    t.strictSame(loadProblem(t, { 'world.json': world({ clients: [{ ...CLIENT, redirectUris: ['http://localhost:3000/callback#done'] }] }) }),
      { file: 'world.json', jsonPath: '$.clients[0].redirectUris[0]', rule: 'must not contain a fragment' })
    t.equal(mergeFixtures([{
      file: 'f.json',
      content: validateFixtureDocument('f.json', world({
        clients: [{ ...CLIENT, redirectUris: ['com.example.app:/callback'] }]
      }))
    }]).clients.length, 1, 'a private-use URI scheme of a mobile app is fine')
  })
})

t.test('toJsonPath turns JSON pointers into readable JSON paths', async (t) => {
  t.equal(toJsonPath(''), '$')
  t.equal(toJsonPath('/subscribers/2/msisdn'), '$.subscribers[2].msisdn')
  t.equal(toJsonPath('/clients/0/jwks/keys/1/d'), '$.clients[0].jwks.keys[1].d')
  t.equal(toJsonPath('/a~1b/c~0d/$ok/_x'), '$["a/b"]["c~d"].$ok._x')
  t.equal(toJsonPath('/with space/0'), '$["with space"][0]')
})

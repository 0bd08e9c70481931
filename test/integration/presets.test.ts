// The sandbox presets (fixtures/presets/*.json) load and behave as their descriptions say, so
// tests written against public operator sandboxes run offline: the device is named through
// login_hint=tel:..., and the magic numbers decide the verify answer.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { DEFAULT_FIXTURES } from '../../src/config/config.js'
import { legRandom } from '../../src/core/flows.js'
import { accessTokenFor, assertErrorInfo, buildScenarioApp, control, verify } from '../scenarios/support.js'

const PRESETS = join(dirname(DEFAULT_FIXTURES), 'presets')
const preset = (name: string): string => join(PRESETS, name)

async function presetApp (t: Test, name: string, seed = 1): Promise<FastifyInstance> {
  const { app } = await buildScenarioApp(t, { fixtures: [preset(name)], seed })
  return app
}

/** A token for the device named by login_hint=tel:<msisdn>, as the sandboxes do it */
async function hintedToken (app: FastifyInstance, msisdn: string): Promise<string> {
  return await accessTokenFor(app, { konera: undefined, loginHint: `tel:${msisdn}` })
}

async function verifiedValue (app: FastifyInstance, token: string, phoneNumber: string): Promise<boolean> {
  const res = await verify(app, token, { phoneNumber })
  if (res.statusCode !== 200) throw new Error(`verify ${phoneNumber} answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified
}

t.test('every preset is tested here, and each loads with what its file declares', async (t) => {
  const files = readdirSync(PRESETS).filter((file) => file.endsWith('.json')).sort()
  t.strictSame(files, ['sandbox-990.json', 'sandbox-last-digit.json', 'sandbox-login-hint.json'])
  for (const file of files) {
    t.test(file, async (t) => {
      const document = JSON.parse(readFileSync(preset(file), 'utf8')) as {
        description: string
        operators: unknown[]
        clients: unknown[]
        subscribers: unknown[]
      }
      t.match(document.description, /^Sandbox convention: /)
      const app = await presetApp(t, file)
      const health = await app.inject({ method: 'GET', url: '/_emulator/health' })
      t.equal(health.statusCode, 200)
      t.match(health.json(), {
        status: 'ok',
        operators: document.operators.length,
        clients: document.clients.length,
        subscribers: document.subscribers.length
      })
    })
  }
})

t.test('sandbox-990: +990 numbers, even last digit true, odd false, ending in 99 an error', async (t) => {
  const app = await presetApp(t, 'sandbox-990.json')
  const token = await hintedToken(app, '+99012345670')

  t.test('even verifies true, odd false, whatever the device is', async (t) => {
    t.equal(await verifiedValue(app, token, '+99012345670'), true)
    t.equal(await verifiedValue(app, token, '+99012345672'), true, 'another even number too')
    t.equal(await verifiedValue(app, token, '+99012345671'), false)
    t.equal(await verifiedValue(app, token, '+99012345679'), false)
    const oddDevice = await hintedToken(app, '+99012345673')
    t.equal(await verifiedValue(app, oddDevice, '+99012345673'), false, 'an odd device fails on its own number')
  })

  t.test('a number ending in 99 answers 500 INTERNAL', async (t) => {
    assertErrorInfo(t, await verify(app, token, { phoneNumber: '+99012345699' }), {
      status: 500,
      code: 'INTERNAL',
      message: 'Unknown server error. Typically a server bug.'
    })
  })

  t.test('numbers outside +990 are compared for real', async (t) => {
    t.equal(await verifiedValue(app, token, '+34666666666'), false)
  })

  t.test('user-defined +990 numbers through PUT /_emulator/subscribers follow the same convention', async (t) => {
    const added = await control(app, 'PUT', `/subscribers/${encodeURIComponent('+99055500001')}`, {
      msisdn: '+99055500001',
      operator: 'sandbox-990',
      ipv4: [],
      ipv6: [],
      connection: 'mobile-data',
      authMethods: ['network']
    })
    t.equal(added.statusCode, 201)
    const own = await hintedToken(app, '+99055500001')
    t.equal(await verifiedValue(app, own, '+99055500001'), false)
    t.equal(await verifiedValue(app, own, '+99055500002'), true)
  })
})

t.test(
  'sandbox-login-hint: tel:+99999991000 verifies true and tel:+99999991001 false, whatever number is claimed',
  async (t) => {
    const app = await presetApp(t, 'sandbox-login-hint.json')
    const alwaysTrue = await hintedToken(app, '+99999991000')
    const alwaysFalse = await hintedToken(app, '+99999991001')
    for (const claimed of ['+99999991000', '+99999991001', '+34666666666']) {
      t.equal(await verifiedValue(app, alwaysTrue, claimed), true, `+99999991000 claiming ${claimed}`)
      t.equal(await verifiedValue(app, alwaysFalse, claimed), false, `+99999991001 claiming ${claimed}`)
    }
  }
)

t.test('sandbox-last-digit: 1 true, 2 false, any other digit a seeded coin', async (t) => {
  const CLAIMS = [
    '+15550000001',
    '+15550000002',
    '+15550000003',
    '+15550000000',
    '+15550000011',
    '+15550000007',
    '+15550000012',
    '+15550000009',
    '+15550000004',
    '+15550000005',
    '+15550000006',
    '+15550000008',
    '+15550000013',
    '+15550000010'
  ]
  let flowId = ''
  const run = async (seed: number): Promise<boolean[]> => {
    const app = await presetApp(t, 'sandbox-last-digit.json', seed)
    const token = await hintedToken(app, '+15550000001')
    const answers: boolean[] = []
    for (const claim of CLAIMS) answers.push(await verifiedValue(app, token, claim))
    flowId = app.emulator.journal.list({ operation: 'verify' })[0]?.flowId ?? ''
    return answers
  }

  const first = await run(3)
  const firstFlow = flowId
  CLAIMS.forEach((claim, i) => {
    if (claim.endsWith('1')) t.equal(first[i], true, `${claim} ends in 1`)
    if (claim.endsWith('2')) t.equal(first[i], false, `${claim} ends in 2`)
  })
  // The ith verify call of the flow draws from its own generator
  const others = CLAIMS.map((claim, i) => [claim, first[i], i + 1] as const).filter(([claim]) => !/[12]$/.test(claim))
  t.strictSame(
    others.map(([, answer]) => answer),
    others.map(([, , n]) => legRandom(3, firstFlow, 'verify', n).chance(0.5)),
    "the others are the flow's seeded draws"
  )
  t.ok(
    others.some(([, answer]) => answer) && others.some(([, answer]) => !answer),
    'both answers occur among the others'
  )
  t.strictSame(await run(3), first, 'the same seed replays the same answers')
  t.notSame(await run(4), first, 'another seed gives other answers')
})

// match.claimedNumber is an RE2 pattern: linear-time matching, so no pattern a caller sends can
// stall the event loop; what RE2 cannot run (lookaround, backreferences) is refused up front.
import t from 'tap'
import { ScenarioError, validateScenario, type Scenario } from '../../../src/core/scenarios/scenario-schema.js'
import { buildEngine, facts, MSISDN } from './support.js'

/** Nested quantifiers: a backtracking engine tries every split of the digits before failing on "!" */
const EVIL = String.raw`^\+((((\d+)+)+)+)+!$`

function claimed (name: string, pattern: string): Scenario {
  return { name, description: pattern, match: { claimedNumber: pattern }, effects: { verifiedResult: true } }
}

t.test('a catastrophic-backtracking pattern is accepted and matched by RE2 at once', async (t) => {
  const { engine } = buildEngine()
  engine.define(claimed('evil', EVIL))
  // With a JavaScript RegExp this call did not return for minutes (15 digits, four nested +)
  const decision = engine.decide(facts({ headerScenarios: ['evil'], claimedNumber: '+346666666661234' }))
  t.strictSame(decision.applied, [])
  t.strictSame(decision.skipped, [{ name: 'evil', source: 'header', because: 'claimed-number' }])
  engine.define(claimed('evil', String.raw`^\+((((\d+)+)+)+)+$`))
  t.strictSame(engine.decide(facts({ headerScenarios: ['evil'], claimedNumber: MSISDN })).applied, [
    { name: 'evil', source: 'header' }
  ])
})

t.test('the presets\' patterns keep their meaning', async (t) => {
  const { engine } = buildEngine([
    claimed('ends-1', '1$'),
    claimed('other-digit', '[03-9]$'),
    claimed('sandbox-990-error', String.raw`^\+990[0-9]*99$`)
  ])
  const applies = (name: string, number: string): boolean =>
    engine.decide(facts({ headerScenarios: [name], claimedNumber: number })).applied.length === 1
  t.strictSame([applies('ends-1', '+34600000001'), applies('ends-1', '+34600000012')], [true, false])
  t.strictSame([applies('other-digit', '+34600000005'), applies('other-digit', '+34600000002')], [true, false])
  t.strictSame([applies('sandbox-990-error', '+99012399'), applies('sandbox-990-error', '+3499012399')], [true, false])
})

t.test('what RE2 cannot run is refused at definition, naming the path', async (t) => {
  for (const [pattern, problem] of [
    [String.raw`^(?=\+34)\+\d+$`, 'invalid or unsupported Perl syntax: `(?=`'],
    [String.raw`^\+(\d)\1`, 'invalid escape sequence: `\\1`'],
    ['(a{1001})', 'invalid repeat count: `{1001}`']
  ] as const) {
    t.throws(() => validateScenario(claimed('x', pattern), 'body'), new ScenarioError('$.match.claimedNumber',
      `must be an RE2 regular expression (error parsing regexp: ${problem})`, 'body'), pattern)
  }
})

t.test('an activation\'s own claimedNumber is checked as a definition\'s is', async (t) => {
  const { engine } = buildEngine()
  t.throws(
    () => engine.activate('verify-always-true', { match: { claimedNumber: '(' } }),
    new ScenarioError(
      '$.match.claimedNumber',
      'must be an RE2 regular expression (error parsing regexp: missing closing ): `(`)'
    )
  )
  t.strictSame(engine.activations(), [])
  engine.activate('verify-always-true', { match: { claimedNumber: EVIL } })
  t.strictSame(engine.decide(facts({ claimedNumber: '+346666666661234' })).applied, [])
})

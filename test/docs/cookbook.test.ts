// The README's scenario cookbook is generated from real requests; this fails when it is stale, and
// proves every catalogue scenario is demonstrated there with what a client really gets.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { buildCookbook, END, START } from '../../scripts/scenario-cookbook.js'
import { CATALOGUE } from '../../src/core/scenarios/catalogue.js'

t.test('the README cookbook matches what the emulator answers today (npm run cookbook regenerates it)', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf(START), readme.indexOf(END) + END.length)
  t.not(readme.indexOf(START), -1, 'the README has the cookbook section')
  t.equal(section, await buildCookbook())
})

t.test('every catalogue scenario has a row with its request and outcome', async (t) => {
  const cookbook = await buildCookbook()
  for (const scenario of CATALOGUE) {
    t.match(
      cookbook,
      new RegExp(
        `\\| \`${scenario.name}\` \\|.*(x-emulator-scenario: ${scenario.name}|emulator_scenario=${scenario.name})`
      ),
      scenario.name
    )
  }
})

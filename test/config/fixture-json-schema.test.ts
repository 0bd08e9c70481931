// The JSON Schema shipped for editors is generated from the TypeBox schema (npm run schema); this
// fails when the committed file is stale, and checks the shipped fixture files against it.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { fixtureJsonSchema } from '../../src/config/fixture-json-schema.js'
import { FixtureFileSchema } from '../../src/core/fixture-schema.js'

const read = (path: string): unknown => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'))

t.test(
  'fixtures/fixture.schema.json is the generated schema (run npm run schema after changing the model)',
  async (t) => {
    t.strictSame(read('fixtures/fixture.schema.json'), fixtureJsonSchema())
  }
)

t.test('every shipped fixture file names the schema and satisfies it', async (t) => {
  for (const file of [
    'fixtures/default.json',
    'fixtures/presets/sandbox-last-digit.json',
    'fixtures/presets/sandbox-990.json',
    'fixtures/presets/sandbox-login-hint.json'
  ]) {
    const document = read(file) as Record<string, unknown>
    t.match(document.$schema, /fixture\.schema\.json$/, `${file} names the schema`)
    t.ok(
      Value.Check(FixtureFileSchema, Value.Default(FixtureFileSchema, structuredClone(document))),
      `${file} is valid`
    )
  }
})

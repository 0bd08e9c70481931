// The fixture JSON Schema as editors want it (draft 2020-12, no TypeBox symbols).
import { FixtureFileSchema } from '../core/fixture-schema.js'

export function fixtureJsonSchema (): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...JSON.parse(JSON.stringify(FixtureFileSchema)) as Record<string, unknown>
  }
}

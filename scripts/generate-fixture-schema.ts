// Writes fixtures/fixture.schema.json from the TypeBox fixture schema, so editors autocomplete
// fixture files. A test checks the committed file is current.
import { writeFileSync } from 'node:fs'
import { fixtureJsonSchema } from '../src/config/fixture-json-schema.js'

const target = new URL('../fixtures/fixture.schema.json', import.meta.url)
writeFileSync(target, JSON.stringify(fixtureJsonSchema(), null, 2) + '\n')
process.stdout.write(`wrote ${target.pathname}\n`)

// Reads fixture files: the file and JSON parse here, the schema and the world's rules in the
// core (src/core/fixtures.ts). Any problem stops loading with the file, the JSON path and the
// rule broken.
import { readFileSync } from 'node:fs'
import { FixtureError, mergeFixtures, validateFixtureDocument, type Fixtures } from '../core/fixtures.js'
import type { FixtureFile } from '../core/fixture-schema.js'

export function readFixtureFile (file: string): FixtureFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new FixtureError(file, '$', `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    throw new FixtureError(file, '$', `is not valid JSON (${(error as Error).message})`)
  }
  return validateFixtureDocument(file, document)
}

/** Loads and merges fixture files in order, then checks the rules that span entities and files. */
export function loadFixtures (files: string[]): Fixtures {
  return mergeFixtures(files.map((file) => ({ file, content: readFixtureFile(file) })))
}

// The README's conformance table names, for each row served, the test that proves it: each cited
// file exists and holds a test of that name, so the table cannot outlive what it cites.
import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'

const ROOT = new URL('../../', import.meta.url)
const README = readFileSync(new URL('README.md', ROOT), 'utf8')

function tableRows (): string[][] {
  const start = README.indexOf('## CAMARA conformance: what is served, per document and release')
  if (start < 0) throw new Error('no conformance section in the README')
  const section = README.slice(start, README.indexOf('\n## ', start + 1))
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| document') && !line.startsWith('|---'))
    .map((line) => line.slice(2, -2).split(' | '))
}

t.test('every served row cites a test that exists', async (t) => {
  const rows = tableRows()
  t.ok(rows.length >= 15, `${rows.length} rows`)
  for (const [document, release, , served, proof] of rows) {
    const row = `${document ?? ''} ${release ?? ''}`
    if (served?.startsWith('no') === true) {
      t.equal(proof, '', `${row}: not served, nothing cited`)
      continue
    }
    t.equal(served, 'yes', `${row}: served`)
    const cited = /^`([^`]+)`: "(.+)"$/.exec(proof ?? '')
    if (cited === null) {
      t.fail(`${row}: "proved by" must be \`file\`: "test name", got ${proof ?? ''}`)
      continue
    }
    const [, file, name] = cited as unknown as [string, string, string]
    const path = new URL(file, ROOT)
    t.ok(existsSync(path), `${row}: ${file} exists`)
    if (existsSync(path)) {
      t.ok(
        readFileSync(path, 'utf8').includes(name.replaceAll("'", "\\'")) || readFileSync(path, 'utf8').includes(name),
        `${row}: ${file} has "${name}"`
      )
    }
  }
})

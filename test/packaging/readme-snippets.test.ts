// The README's packaging snippets are the example files the suite runs (quoted verbatim, so a
// change to one shows up as a failure here), and the version-bound names in them follow package.json.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from './packed-package.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

function section (heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`)
  if (start < 0) throw new Error(`README has no "## ${heading}" section`)
  const end = readme.indexOf('\n## ', start + 1)
  return readme.slice(start, end < 0 ? undefined : end)
}

t.test('the in-process section quotes the example programs the suite runs', async (t) => {
  const inProcess = section('In-process (programmatic API)')
  for (const example of ['quick-start.mjs', 'controls.mjs']) {
    const code = readFileSync(join(ROOT, 'examples', 'in-process', example), 'utf8')
    t.ok(inProcess.includes('```js\n' + code + '```\n'), `examples/in-process/${example} verbatim in a js block`)
  }
})

t.test('the CI recipes quote the GitHub Actions workflow, whose image tag, port and issuer agree', async (t) => {
  const workflow = readFileSync(join(ROOT, 'examples', 'github-actions', 'number-verification.yml'), 'utf8')
  t.ok(
    section('CI recipes').includes('```yaml\n' + workflow + '```\n'),
    'examples/github-actions/number-verification.yml verbatim'
  )
  const images = [...workflow.matchAll(/ghcr\.io\/your-org\/camara-nv-emulator:(\S+)/g)].map((match) => match[1])
  t.same([...new Set(images)], [version], 'the image tag is the package version')
  t.match(workflow, /\n {10}- 9091:9091\n/)
  t.match(workflow, /\n {10}PUBLIC_URL: http:\/\/localhost:9091\n/)
  t.match(workflow, /\n {10}NV_ISSUER: http:\/\/localhost:9091\/camara\/api\/auth\/v1\n/)
})

t.test('the tarball the README installs is the one npm pack names for this version', async (t) => {
  const names = [...section('Run it four ways').matchAll(/camara-nv-emulator-(\d+\.\d+\.\d+)\.tgz/g)].map(
    (match) => match[1]
  )
  t.ok(names.length > 0)
  t.same([...new Set(names)], [version])
})

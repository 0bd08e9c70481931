// --watch: fixture files reloaded on change. The watcher alone (good change, editor-style rename
// over the file, bad change naming file, JSON path and rule, reload on demand), then buildApp
// with watch: true: a good change is served, becomes what reset returns to, and a bad change
// keeps the last good set and logs why. Changes are awaited by polling, never by a fixed sleep.
import { renameSync, writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { describeReloadFailure, watchFixtures } from '../../src/config/fixture-watcher.js'
import { FixtureError, type Fixtures } from '../../src/core/fixtures.js'
import type { FixtureFile } from '../../src/core/fixture-schema.js'
import { buildTestApp } from '../helpers/app.js'
import { control, defaultFixtureDocument, eventually, writeFixtureFile } from '../scenarios/support.js'

const ADDED = {
  msisdn: '+34622222222',
  operator: 'telco-es',
  name: 'added by a reload',
  ipv4: ['142.115.210.1'],
  ipv6: [],
  connection: 'mobile-data' as const,
  authMethods: ['network' as const]
}

function withSubscriber (subscriber: Record<string, unknown>): FixtureFile {
  const document = defaultFixtureDocument()
  document.subscribers.push(subscriber as FixtureFile['subscribers'][number])
  return document
}

/** Writes the way editors save: a new file renamed over the old one */
function saveByRename (file: string, document: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(document))
  renameSync(`${file}.tmp`, file)
}

t.test('the watcher reports a good change with the new fixtures', async (t) => {
  const file = writeFixtureFile(t, defaultFixtureDocument())
  const loaded: Fixtures[] = []
  const failed: Error[] = []
  const watcher = watchFixtures(
    [file],
    { loaded: (f) => loaded.push(f), failed: (e) => failed.push(e) },
    { debounceMs: 10 }
  )
  t.teardown(() => watcher.close())

  writeFileSync(file, JSON.stringify(withSubscriber(ADDED)))
  const fixtures = await eventually('the reload', async () => loaded.at(-1))
  t.strictSame(fixtures.subscribers.at(-1), ADDED)
  t.strictSame(fixtures.files, [file])
  t.strictSame(failed, [])

  t.test('a save by rename over the file (as editors do) is seen too', async (t) => {
    const renamed = { ...ADDED, msisdn: '+34633333333', ipv4: ['142.115.210.2'] }
    saveByRename(file, withSubscriber(renamed))
    const next = await eventually('the reload after a rename', async () =>
      loaded.at(-1)?.subscribers.find((s) => s.msisdn === renamed.msisdn) === undefined ? undefined : loaded.at(-1)
    )
    t.equal(next.subscribers.length, 8)
  })
})

t.test('the watcher reports a bad change as a FixtureError naming the file, the JSON path and the rule', async (t) => {
  const file = writeFixtureFile(t, defaultFixtureDocument())
  const loaded: Fixtures[] = []
  const failed: Error[] = []
  const watcher = watchFixtures(
    [file],
    { loaded: (f) => loaded.push(f), failed: (e) => failed.push(e) },
    { debounceMs: 10 }
  )
  t.teardown(() => watcher.close())

  writeFileSync(file, JSON.stringify(withSubscriber({ ...ADDED, operator: 'telco-xx' })))
  const error = await eventually('the failed reload', async () => failed.at(-1))
  t.type(error, FixtureError)
  t.match(error, {
    file,
    jsonPath: '$.subscribers[7].operator',
    rule: 'unknown operator "telco-xx"; known: telco-es, telco-in'
  })
  t.equal(
    describeReloadFailure(error),
    `fixtures not reloaded, keeping the last good set: ${file}: $.subscribers[7].operator: unknown operator ` +
      '"telco-xx"; known: telco-es, telco-in'
  )
  t.strictSame(loaded, [])

  t.test('reload() re-reads at once, with the same outcome', async (t) => {
    failed.length = 0
    watcher.reload()
    t.match(failed, [{ jsonPath: '$.subscribers[7].operator' }])
    writeFileSync(file, JSON.stringify(withSubscriber(ADDED)))
    watcher.reload()
    t.equal(loaded[0]?.subscribers.length, 8)
  })
})

t.test('describeReloadFailure words an error that is not about a fixture', async (t) => {
  t.equal(
    describeReloadFailure(new Error('scenario "x" is defined twice')),
    'fixtures not reloaded: scenario "x" is defined twice'
  )
})

interface WatchedApp {
  app: FastifyInstance
  file: string
  /** Parsed log lines, in order */
  logs: Array<{ level: number, msg: string, [key: string]: unknown }>
}

async function watchedApp (t: Test): Promise<WatchedApp> {
  const file = writeFixtureFile(t, defaultFixtureDocument())
  const logs: WatchedApp['logs'] = []
  const logStream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line))
      done()
    }
  })
  const { app } = await buildTestApp(t, { fixtures: [file], watch: true }, { logger: { level: 'info' }, logStream })
  return { app, file, logs }
}

async function subscriberNumbers (app: FastifyInstance): Promise<string[]> {
  return ((await control(app, 'GET', '/subscribers')).json() as Array<{ msisdn: string }>).map((s) => s.msisdn)
}

t.test('buildApp with watch: a good change is served, a bad one keeps the last good set and logs why', async (t) => {
  const { app, file, logs } = await watchedApp(t)
  const original = defaultFixtureDocument().subscribers.map((s) => s.msisdn)
  t.strictSame(await subscriberNumbers(app), original)

  t.test('a good change: the new subscriber is served, and the reload is logged', async (t) => {
    const document = withSubscriber(ADDED)
    document.scenarios = [
      { name: 'from-the-file', description: 'added by the reload', effects: { latency: { fixedMs: 1 } } }
    ]
    writeFileSync(file, JSON.stringify(document))
    const served = await eventually('the reloaded subscribers', async () => {
      const numbers = await subscriberNumbers(app)
      return numbers.includes(ADDED.msisdn) ? numbers : undefined
    })
    t.strictSame(served, [...original, ADDED.msisdn])
    const listing = (await control(app, 'GET', '/scenarios')).json() as {
      scenarios: Array<{ name: string, origin: string }>
    }
    t.match(listing.scenarios.find((s) => s.name === 'from-the-file'), { origin: 'fixture', file })
    t.match(logs.find((line) => line.msg === 'fixtures reloaded'), { level: 30, files: [file], subscribers: 8 })
  })

  t.test('the reloaded set is what reset returns to', async (t) => {
    t.equal((await control(app, 'DELETE', `/subscribers/${encodeURIComponent(ADDED.msisdn)}`)).statusCode, 204)
    t.equal((await control(app, 'POST', '/reset')).statusCode, 204)
    t.strictSame(await subscriberNumbers(app), [...original, ADDED.msisdn])
  })

  t.test(
    'a bad change: the last good set stays, and the error names the file, the JSON path and the rule',
    async (t) => {
      const before = (await control(app, 'GET', '/fixtures')).body
      writeFileSync(file, JSON.stringify(withSubscriber({ ...ADDED, operator: 'telco-xx' })))
      const logged = await eventually('the logged reload failure', async () => logs.find((line) => line.level === 50))
      t.equal(
        logged.msg,
        `fixtures not reloaded, keeping the last good set: ${file}: $.subscribers[7].operator: unknown operator ` +
          '"telco-xx"; known: telco-es, telco-in'
      )
      t.equal((await control(app, 'GET', '/fixtures')).body, before)
    }
  )

  t.test('a file that is not JSON: the last good set stays too', async (t) => {
    const errorsBefore = logs.filter((line) => line.level === 50).length
    writeFileSync(file, '{ "subscribers": [')
    const logged = await eventually(
      'the second logged failure',
      async () => logs.filter((line) => line.level === 50)[errorsBefore]
    )
    t.match(logged.msg, `fixtures not reloaded, keeping the last good set: ${file}: `)
    t.strictSame(await subscriberNumbers(app), [...original, ADDED.msisdn])
  })

  t.test('a later good change is served again', async (t) => {
    saveByRename(file, defaultFixtureDocument())
    const served = await eventually('the restored subscribers', async () => {
      const numbers = await subscriberNumbers(app)
      return numbers.includes(ADDED.msisdn) ? undefined : numbers
    })
    t.strictSame(served, original)
    const listing = (await control(app, 'GET', '/scenarios')).json() as { scenarios: Array<{ name: string }> }
    t.notOk(listing.scenarios.some((s) => s.name === 'from-the-file'), 'the file\'s scenario left with it')
  })
})

t.test(
  'buildApp with watch: a reload whose scenario clashes with a runtime one changes nothing and is logged',
  async (t) => {
    const { app, file, logs } = await watchedApp(t)
    const defined = await control(app, 'POST', '/scenarios', {
      name: 'clash-me',
      description: 'defined at runtime',
      effects: { latency: { fixedMs: 1 } }
    })
    t.equal(defined.statusCode, 201)
    const document = withSubscriber(ADDED)
    document.scenarios = [
      { name: 'clash-me', description: 'defined in the file', effects: { latency: { fixedMs: 2 } } }
    ]
    writeFileSync(file, JSON.stringify(document))
    const logged = await eventually('the logged clash', async () => logs.find((line) => line.level === 50))
    t.equal(
      logged.msg,
      `fixtures not reloaded: scenario "clash-me" is defined twice: in the control API and in ${file}`
    )
    t.notOk((await subscriberNumbers(app)).includes(ADDED.msisdn), 'the subscribers did not change either')
    const listing = (await control(app, 'GET', '/scenarios')).json() as {
      scenarios: Array<{ name: string, origin: string }>
    }
    t.match(
      listing.scenarios.find((s) => s.name === 'clash-me'),
      { origin: 'control' }
    )
  }
)

t.test('without watch, a change to the file is not picked up by reset', async (t) => {
  const file = writeFixtureFile(t, defaultFixtureDocument())
  const { app } = await buildTestApp(t, { fixtures: [file] })
  writeFileSync(file, JSON.stringify(withSubscriber(ADDED)))
  t.equal((await control(app, 'POST', '/reset')).statusCode, 204)
  t.notOk((await subscriberNumbers(app)).includes(ADDED.msisdn))
})

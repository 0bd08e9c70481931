// `npm run build` leaves the stamp `npm start` compares the sources with, so the first start after
// a build starts at once instead of building again (about 12 s here); a source changed since the
// build still makes `npm start` build. Run in a copy of the sources inside the checkout, so the
// checkout's own dist is not rebuilt under the other tests.
import { execFile as execFileCallback } from 'node:child_process'
import { cpSync, existsSync, symlinkSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { CHECKOUT, tempDir } from '../helpers/temp-dir.js'
import { cleanEnv } from './child-process.js'

const execFile = promisify(execFileCallback)

t.setTimeout(180_000)

t.test('a build leaves the stamp; npm start then builds only after a source changed', async (t) => {
  const copy = tempDir(t, 'build-stamp-')
  for (const entry of ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
    cpSync(join(CHECKOUT, entry), join(copy, entry), { recursive: true })
  }
  // The checkout's own dependencies, by a link that stays inside the checkout
  symlinkSync(join(CHECKOUT, 'node_modules'), join(copy, 'node_modules'), 'dir')
  const node = async (script: string): Promise<string> =>
    (
      await execFile(process.execPath, [join(copy, 'scripts', script)], {
        cwd: copy,
        env: cleanEnv(),
        timeout: 150_000
      })
    ).stderr

  await node('build.mjs')
  t.ok(existsSync(join(copy, 'dist', '.build-stamp')), 'the build wrote dist/.build-stamp')
  t.notMatch(await node('build-if-needed.mjs'), /building/, 'the start after a build does not build')

  // The stamp older than a source: as after editing src/version.ts
  const earlier = new Date(Date.now() - 3_600_000)
  utimesSync(join(copy, 'dist', '.build-stamp'), earlier, earlier)
  t.match(await node('build-if-needed.mjs'), /camara-nv-emulator: building/, 'a changed source builds again')
  t.notMatch(await node('build-if-needed.mjs'), /building/, 'and that build left its stamp too')
})

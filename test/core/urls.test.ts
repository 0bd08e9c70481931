// Every external URL derives from one public base; a namespace's follow its parent's base.
import t from 'tap'
import { EmulatorUrls, namespacePath, pathOf } from '../../src/core/urls.js'
import { thrown } from './support.js'

t.test('a request URL loses its query string, and only that', async (t) => {
  t.equal(pathOf('/camara/api/auth/v1/authorize?client_id=demo-app&state=x'), '/camara/api/auth/v1/authorize')
  t.equal(pathOf('/camara/api/auth/v1/jwks'), '/camara/api/auth/v1/jwks')
  t.equal(pathOf('/verify?'), '/verify')
})

t.test('a namespace\'s URLs sit under /ns/<name> and follow the parent\'s base when it changes', async (t) => {
  const root = new EmulatorUrls('http://localhost:0/')
  const team = root.under(namespacePath('team-a'))
  t.equal(team.issuer, 'http://localhost:0/ns/team-a/camara/api/auth/v1')
  root.setBase('http://127.0.0.1:4321//')
  t.equal(root.publicUrl, 'http://127.0.0.1:4321')
  t.equal(team.tokenEndpoint, 'http://127.0.0.1:4321/ns/team-a/camara/api/auth/v1/token')
  t.equal(team.operatorAuthorization('telco es'), 'http://127.0.0.1:4321/ns/team-a/operators/telco%20es/authorize')
})

t.test('a namespace\'s base cannot be set on its own', async (t) => {
  const team = new EmulatorUrls('http://emulator.test').under('/ns/team-a')
  const error = thrown(() => { team.setBase('http://elsewhere.test') })
  t.match(error, { message: 'a namespace\'s URLs follow its parent\'s base' })
  t.equal(team.publicUrl, 'http://emulator.test/ns/team-a')
})

t.test('a base that is not an absolute URL is refused', async (t) => {
  t.throws(() => new EmulatorUrls('/camara/api/auth/v1'), TypeError)
})

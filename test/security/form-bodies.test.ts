// Form bodies are parsed only where OAuth and the browser pages need them (the token endpoint, the
// SIM picker, the demo's form): no other surface turns an HTML form's body into an object.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { TOKEN_PATH } from '../helpers/flow.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('the token endpoint parses its form body', async (t) => {
  const { app } = await buildTestApp(t)
  const payload = 'grant_type=client_credentials&client_id=demo-app&client_secret=demo-secret'
  const res = await app.inject({ method: 'POST', url: TOKEN_PATH, headers: FORM, payload })
  t.equal(res.statusCode, 200)
})

t.test('the root has no form parser, so no other surface turns a form into an object', async (t) => {
  const { app } = await buildTestApp(t)
  t.equal(app.hasContentTypeParser('application/x-www-form-urlencoded'), false)
  t.equal(app.hasContentTypeParser('application/json'), true)
})

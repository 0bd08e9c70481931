// The peer of the token benchmark: axa-group/oauth2-mock-server with an RS256 key, as its README
// starts it. Its /token signs an access token and an id_token for every code exchange.
import { OAuth2Server } from 'oauth2-mock-server'

const port = Number(process.argv[2] ?? 0)
const server = new OAuth2Server()
await server.issuer.keys.generate('RS256')
await server.start(port, '127.0.0.1')
process.on('SIGTERM', () => { server.stop().then(() => process.exit(0), () => process.exit(1)) })

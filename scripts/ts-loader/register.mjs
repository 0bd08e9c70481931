// `node --import ./scripts/ts-loader/register.mjs file.ts`: runs this project's TypeScript through
// ./hooks.mjs (esbuild, cached inside the checkout). tap loads it in every test process (package.json
// "tap"."node-arg"), in place of @tapjs/typescript (ts-node), which took about twice as long.
import { register } from 'node:module'

process.setSourceMapsEnabled(true)
register('./hooks.mjs', import.meta.url)

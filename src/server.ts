#!/usr/bin/env node
// Process entry: flags + env -> config -> buildApp -> listen; graceful shutdown on SIGTERM/SIGINT.
import { CommanderError } from 'commander'
import { buildApp } from './app.js'
import { parseConfig, type EmulatorConfig } from './config/config.js'
import { FixtureError } from './config/fixtures.js'
import { KeyFileError } from './core/keys.js'
import { VERSION as version } from './version.js'

function fail (message: string): never {
  process.stderr.write(`camara-nv-emulator: ${message}\n`)
  process.exit(1)
}

async function main (): Promise<void> {
  let config: EmulatorConfig
  try {
    config = parseConfig(process.argv.slice(2), process.env, version)
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode)
    throw error
  }

  let app
  try {
    app = await buildApp(config, { prettyLogs: process.stdout.isTTY })
  } catch (error) {
    if (error instanceof FixtureError) fail(`invalid fixtures: ${error.message}`)
    if (error instanceof KeyFileError) fail(`invalid signing key: ${error.message}`)
    throw error
  }

  const address = await app.listen({ port: config.port, host: config.host }).catch((error: NodeJS.ErrnoException) => {
    fail(error.code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is already in use (use --port or PORT)` : error.message)
  })
  if (config.publicUrl === undefined && config.port === 0) app.emulator.urls.setBase(address)

  const { urls, directory } = app.emulator
  const counts = directory.counts()
  process.stdout.write([
    `camara-nv-emulator ${version} listening on ${address} (seed ${config.seed}, profile ${config.profile})`,
    `  issuer         ${urls.issuer}`,
    `  discovery      ${urls.discovery}`,
    `  authorize      ${urls.authorizationEndpoint}`,
    `  token          ${urls.tokenEndpoint}`,
    `  jwks           ${urls.jwksUri}`,
    `  health         ${urls.publicUrl}/_emulator/health`,
    `  fixtures       ${config.fixtures.join(', ')}: ${counts.operators} operators, ${counts.clients} clients, ${counts.subscribers} subscribers`,
    ''
  ].join('\n'))

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'error during shutdown')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error))
})

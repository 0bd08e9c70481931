// Every (method, path) the router holds, read from printRoutes' tree: each line is a node whose
// segment extends its parent's. HEAD routes Fastify adds for GET are left out.
import type { FastifyInstance } from 'fastify'

export function servedRoutes (app: FastifyInstance): Set<string> {
  const routes = new Set<string>()
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const marker = line.search(/[├└]── /)
    if (marker < 0) continue
    const depth = marker / 4
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(marker + 4))
    if (match === null) continue
    stack.length = depth
    const path = (stack[depth - 1] ?? '') + (match[1] ?? '')
    stack.push(path)
    for (const method of (match[2] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '' && m !== 'HEAD')) {
      routes.add(`${method} ${path}`)
    }
  }
  return routes
}

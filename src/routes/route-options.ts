// Route options shared by surfaces.
import type { FastifySchemaCompiler } from 'fastify'

/**
 * For endpoints whose protocol dictates how invalid input is reported (OAuth: redirect or JSON,
 * depending on which parameter is wrong), the core validates; the route schema only documents.
 */
export const documentOnly: FastifySchemaCompiler<unknown> = () => accept

/**
 * true, not { value }: Fastify assigns a returned value back to the request, and an assigned
 * `request.headers` makes every later read of it copy all the headers (Object.assign)
 */
function accept (): true {
  return true
}

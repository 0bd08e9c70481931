// Route options shared by surfaces.
import type { FastifySchemaCompiler } from 'fastify'

/**
 * For endpoints whose protocol dictates how invalid input is reported (OAuth: redirect or JSON,
 * depending on which parameter is wrong), the core validates; the route schema only documents.
 */
export const documentOnly: FastifySchemaCompiler<unknown> = () => (value) => ({ value })

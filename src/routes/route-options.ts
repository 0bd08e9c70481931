// Route options shared by surfaces.
import type { FastifySchemaCompiler } from 'fastify'

/**
 * For endpoints whose protocol dictates how invalid input is reported (OAuth: redirect or JSON,
 * depending on which parameter is wrong), the core validates; the route schema only documents.
 */
export const documentOnly: FastifySchemaCompiler<unknown> = () => NO_VALIDATOR

/**
 * No validator at all: Fastify skips validation for a part whose compiled validator is null (and
 * the whole step when no part has one). A validator returning { value } would be worse than a
 * cost: Fastify assigns the value back, and an assigned `request.headers` makes every later read
 * of it copy all the headers (Object.assign).
 */
const NO_VALIDATOR = null as unknown as ReturnType<FastifySchemaCompiler<unknown>>

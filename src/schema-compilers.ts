// Route schemas compiled on first use rather than at start. The emulator declares some 60 routes
// (five Number Verification path families, the control API, docs), each with request and response
// schemas; compiling every Ajv validator and fast-json-stringify serializer up front took about
// half of the start-up time, mostly for routes a given run never calls. The compilers are Fastify's
// own defaults, with the server's Ajv options; request bodies are validated without type coercion
// (`["+34666666666"]` is no phoneNumber), the other parts with Fastify's default coercion (query
// strings and headers are text).
import ValidatorSelector from '@fastify/ajv-compiler'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>
type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown, schemaEnv?: unknown }

/**
 * Fastify's compilers with strict bodies; `lazy: false` compiles every route at start as Fastify
 * does by default (the benchmark's comparison, `npm run bench -- --only devices`)
 */
export function schemaCompilers ({ lazy }: { lazy: boolean }): CompilersFactory {
  const buildValidator = ValidatorSelector() as unknown as ValidatorFactory
  const buildSerializer = SerializerSelector() as unknown as SerializerFactory
  if (!lazy) {
    return {
      buildValidator: (externalSchemas, options) => {
        const compile = buildValidator(externalSchemas, options)
        const compileBody = buildValidator(externalSchemas, strictBodies(options))
        return (route) => route.httpPart === 'body' ? compileBody(route) : compile(route)
      },
      buildSerializer
    }
  }
  return {
    buildValidator: (externalSchemas, options) => {
      // Even the Ajv instances wait for the first validation: creating one compiles Ajv's
      // meta-schema (~35 ms of start-up), and a quiet run may validate nothing
      let compile: ReturnType<ValidatorFactory> | undefined
      let compileBody: ReturnType<ValidatorFactory> | undefined
      const strict = strictBodies(options)
      return (route) => {
        let compiled: Validate | undefined
        const validate: Validate = (data, context) => {
          if (route.httpPart === 'body') compiled ??= (compileBody ??= buildValidator(externalSchemas, strict))(route) as Validate
          else compiled ??= (compile ??= buildValidator(externalSchemas, options))(route) as Validate
          const result = compiled(data, context)
          // Fastify reads Ajv's errors from the function it called
          validate.errors = compiled.errors
          return result
        }
        // Tells Fastify to pass the parent object, so Ajv may coerce or default a whole request part
        validate.schemaEnv = true
        return validate as unknown as ReturnType<ReturnType<ValidatorFactory>>
      }
    },
    buildSerializer: (externalSchemas, options) => {
      let compile: ReturnType<SerializerFactory> | undefined
      return (route) => {
        let serialize: ((data: unknown) => string) | undefined
        return (data: unknown) => {
          compile ??= buildSerializer(externalSchemas, options)
          serialize ??= compile(route) as (data: unknown) => string
          return serialize(data)
        }
      }
    }
  }
}

/** The server's Ajv options, without type coercion: a body is validated as sent */
function strictBodies<O extends { customOptions?: object } | undefined> (options: O): O {
  return { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } } as O
}

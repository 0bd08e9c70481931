// Route schemas compiled on first use rather than at start. The emulator declares some 60 routes
// (five Number Verification path families, the control API, docs), each with request and response
// schemas; compiling every Ajv validator and fast-json-stringify serializer up front took about
// half of the start-up time, mostly for routes a given run never calls. The compilers are Fastify's
// own defaults, with the server's Ajv options; request bodies are validated without type coercion
// (`["+34666666666"]` is no phoneNumber), the other parts with Fastify's default coercion (query
// strings and headers are text).
//
// Compiled functions are also shared by the apps of one process (tests, startEmulator() in a
// client's suite): by the compiler's options, then by the route's schema object, weakly, so an
// app built again compiles nothing its predecessors compiled, and a schema no route holds any
// more goes with its function. Each app keeps its own Ajv instances, made on its first miss.
import ValidatorSelector from '@fastify/ajv-compiler'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>
type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown, schemaEnv?: unknown }
type Serialize = (data: unknown) => string

/** Distinct compiler option sets kept (an app has two or three); past it the oldest set is dropped */
const MAX_OPTION_SETS = 16

/** Process-wide compiled functions: option set -> schema object -> function */
class CompiledCache<F> {
  private readonly sets = new Map<string, WeakMap<object, F>>()

  /** The functions compiled with these shared schemas and compiler options */
  for (externalSchemas: unknown, options: unknown): WeakMap<object, F> {
    const key = JSON.stringify([externalSchemas, options])
    let set = this.sets.get(key)
    if (set === undefined) {
      if (this.sets.size >= MAX_OPTION_SETS) this.sets.delete(this.sets.keys().next().value as string)
      set = new WeakMap()
      this.sets.set(key, set)
    }
    return set
  }
}

const validators = new CompiledCache<Validate>()
const serializers = new CompiledCache<Serialize>()

/** The cached function of `schema`, compiled (and cached) on a miss; a schema that is no object is not cached */
function cachedOr<F> (cache: WeakMap<object, F>, schema: unknown, compile: () => F): F {
  if (typeof schema !== 'object' || schema === null) return compile()
  let compiled = cache.get(schema)
  if (compiled === undefined) {
    compiled = compile()
    cache.set(schema, compiled)
  }
  return compiled
}

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
      const cache = validators.for(externalSchemas, options?.customOptions)
      const bodyCache = validators.for(externalSchemas, strict?.customOptions)
      return (route) => {
        let compiled: Validate | undefined
        const validate: Validate = (data, context) => {
          if (route.httpPart === 'body') {
            compiled ??= cachedOr(
              bodyCache,
              route.schema,
              () => (compileBody ??= buildValidator(externalSchemas, strict))(route) as Validate
            )
          } else {
            compiled ??= cachedOr(
              cache,
              route.schema,
              () => (compile ??= buildValidator(externalSchemas, options))(route) as Validate
            )
          }
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
      const cache = serializers.for(externalSchemas, options)
      return (route) => {
        let serialize: Serialize | undefined
        return (data: unknown) => {
          serialize ??= cachedOr(
            cache,
            route.schema,
            () => (compile ??= buildSerializer(externalSchemas, options))(route) as Serialize
          )
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

// Response schemas of the browser-facing routes (pages and redirects), for the OpenAPI document.
import { Type } from '@sinclair/typebox'

/** An HTML page or fragment */
export function htmlResponse (description: string): {
  description: string
  content: { 'text/html': { schema: ReturnType<typeof Type.String> } }
} {
  return { description, content: { 'text/html': { schema: Type.String() } } }
}

/** A redirect with no body: where the browser goes next is in Location */
export function redirectResponse (description: string): ReturnType<typeof Type.Null> {
  // @fastify/swagger reads response headers as a name -> schema map
  return Type.Null({ description, headers: { Location: Type.String({ description: 'Where the browser goes next' }) } })
}

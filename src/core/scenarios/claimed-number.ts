// The `match.claimedNumber` pattern language: RE2 (through re2js, a pure JavaScript port), which
// matches in time linear in the input and has no backtracking, so a pattern sent to the control
// API cannot stall the event loop the way `^\+((\d+)+)+!$` stalls a JavaScript RegExp. RE2 drops
// what needs backtracking (lookaround, backreferences); everything else reads as in JavaScript.
import { RE2JS, RE2JSException } from 're2js'

/** Compiled patterns kept for decide(); cleared when full, so callers cannot grow it without bound */
const MAX_CACHED = 4096
const compiled = new Map<string, RE2JS>()

/** Why `source` is not a pattern RE2 accepts, or undefined when it is */
export function claimedNumberProblem (source: string): string | undefined {
  try {
    compile(source)
    return undefined
  } catch (error) {
    if (error instanceof RE2JSException) return `must be an RE2 regular expression (${error.message})`
    throw error
  }
}

/** Whether the pattern is found in the number, as RegExp.prototype.test would say */
export function claimedNumberMatches (source: string, number: string): boolean {
  return compile(source).test(number)
}

function compile (source: string): RE2JS {
  let pattern = compiled.get(source)
  if (pattern === undefined) {
    pattern = RE2JS.compile(source)
    if (compiled.size >= MAX_CACHED) compiled.clear()
    compiled.set(source, pattern)
  }
  return pattern
}

// How the CLI tunes V8's heap. Under sustained flows most objects (codes, grants, tokens) live for
// their TTL, get promoted, and die in the old generation; by default V8 lets it grow far before a
// full collection, and RSS peaked at 264 MB in 60 s of flows. A growth of 10% per step keeps it
// under 150 MB, flat (bench: `npm run bench -- --only rss`), and costs throughput: V8's default
// answered ~20% more /verify calls and flows (docs/performance.md, 2026-12-06); 30% bought nothing
// and 50% already broke the memory goal. Only the CLI sets it: the programmatic API runs inside the
// user's process, whose heap is theirs.
import { setFlagsFromString } from 'node:v8'

export const HEAP_GROWING_PERCENT = 10

/** The V8 flags to set, unless the user chose the growth already (node flag or NODE_OPTIONS) */
export function heapFlags (execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const chosen = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))
  return chosen ? [] : [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]
}

export function tuneHeap (): void {
  for (const flag of heapFlags(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(flag)
}

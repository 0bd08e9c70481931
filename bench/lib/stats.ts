// Small numeric helpers for the benchmark tables.
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] as number
}

export function median (values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50)
}

export const MB = 1024 * 1024

export function round (value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** Least-squares slope of y over x */
export function slope (points: Array<[number, number]>): number {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  return den === 0 ? 0 : num / den
}

/**
 * How much the highest value of the last quarter exceeds the highest of the second quarter (the
 * first quarter is warm-up). A leak raises each later peak; a band that swings without a trend
 * does not. A least-squares slope over half a run does not tell the two apart: it follows
 * whichever phase of a slow swing the half happens to cover. Needs 4 values at least.
 */
export function peakGrowth (values: number[]): number {
  if (values.length < 4) return Number.NaN
  const quarter = (index: number): number[] =>
    values.slice(Math.floor((index * values.length) / 4), Math.floor(((index + 1) * values.length) / 4))
  return Math.max(...quarter(3)) - Math.max(...quarter(1))
}

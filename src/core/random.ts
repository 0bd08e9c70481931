// The one seeded source of randomness (probabilistic scenarios, latency distributions), so a
// failing CI run replays exactly: the same seed and the same sequence of calls give the same values.
import { mersenne, unsafeUniformIntDistribution, type RandomGenerator } from 'pure-rand'

/** z such that P(Z <= z) = 0.99 for a standard normal Z: turns a p99 into a spread */
const NORMAL_P99 = 2.3263478740408408

const TWO_POW_26 = 2 ** 26
const TWO_POW_53 = 2 ** 53

export class SeededRandom {
  readonly seed: number
  private generator: RandomGenerator

  /**
   * `seed`: an integer in [0, 2^32), as the generator keeps 32 bits of it (larger ones would
   * collide). Mersenne Twister rather than xoroshiro128+: pure-rand seeds xoroshiro with a mostly
   * constant state, so its first outputs for small seeds are nearly all ones and alike.
   */
  constructor (seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${String(seed)}`)
    }
    this.seed = seed
    this.generator = mersenne(seed)
  }

  /** Back to the start of the sequence: the same calls give the same values as after construction */
  restart (): void {
    this.generator = mersenne(this.seed)
  }

  /** A seed for when none is given: printed at start-up so the run can be replayed */
  static randomSeed (): number {
    return Math.floor(Math.random() * 0x1_0000_0000)
  }

  /**
   * Uniform in [0, 1) with the full 53 bits of a double, from two 32-bit draws: 27 high bits then
   * 26 low bits, as the Mersenne Twister reference genrand_res53 does (so values can be checked
   * against other implementations of MT19937).
   */
  next (): number {
    const high = this.generator.unsafeNext() >>> 5
    const low = this.generator.unsafeNext() >>> 6
    return (high * TWO_POW_26 + low) / TWO_POW_53
  }

  /** Uniform integer in [min, max], both included, without modulo bias */
  int (min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
      throw new RangeError(`int(min, max) needs integers with min <= max, got ${min}, ${max}`)
    }
    return unsafeUniformIntDistribution(min, max, this.generator)
  }

  /** True with probability p. Always draws once, so the sequence does not depend on p. */
  chance (p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability must be in [0, 1], got ${p}`)
    return this.next() < p
  }

  /** Uniform in [min, max) */
  uniform (min: number, max: number): number {
    if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
      throw new RangeError(`uniform(min, max) needs finite numbers with min <= max, got ${min}, ${max}`)
    }
    return min + this.next() * (max - min)
  }

  /** Standard normal (Box-Muller); draws twice */
  normal (): number {
    // 1 - next() is in (0, 1], so the logarithm stays finite
    const u1 = 1 - this.next()
    const u2 = this.next()
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
  }

  /**
   * Long-tailed latency: a lognormal whose median and 99th percentile are given, which is how
   * latency is usually reported (mu = ln(median), sigma = (ln(p99) - mu) / z99).
   */
  lognormal (medianMs: number, p99Ms: number): number {
    if (!(medianMs > 0) || !Number.isFinite(p99Ms) || p99Ms < medianMs) {
      throw new RangeError(`lognormal(median, p99) needs 0 < median <= p99, got ${medianMs}, ${p99Ms}`)
    }
    const mu = Math.log(medianMs)
    const sigma = (Math.log(p99Ms) - mu) / NORMAL_P99
    return Math.exp(mu + sigma * this.normal())
  }
}

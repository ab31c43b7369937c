// Workloads/Randomness ported bit for bit: DeterministicRandom (xoshiro256** seeded through SplitMix64) and
// DeterministicMath (log, exp, tanh from IEEE +, −, ×, ÷ and sqrt only). uint64 arithmetic is BigInt wrapped to 64
// bits; every double operation keeps the C# order, because JavaScript, like .NET, neither reorders nor fuses them.

const Mask = (1n << 64n) - 1n;
const Golden = 0x9e3779b97f4a7c15n;

/** A seed as it may travel: a bigint, a decimal string, or a number that is a safe non-negative integer. */
export type Seed = bigint | string | number;

/** A seed as a uint64. A number above 2^53 has lost bits already (JSON.parse), so it is refused rather than used. */
export function toU64(seed: Seed): bigint {
  if (typeof seed === "bigint") return BigInt.asUintN(64, seed);
  if (typeof seed === "number") {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Seed ${seed} is not a safe non-negative integer; send it as a string.`);
    return BigInt(seed);
  }
  if (!/^[0-9]+$/.test(seed)) throw new RangeError(`Seed "${seed}" is not a decimal uint64.`);
  const value = BigInt(seed);
  if (value > Mask) throw new RangeError(`Seed ${seed} does not fit in 64 bits.`);
  return value;
}

function mix(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & Mask;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & Mask;
  return z ^ (z >> 31n);
}

function rotl(x: bigint, k: bigint): bigint {
  return ((x << k) & Mask) | (x >> (64n - k));
}

const TwoPow53Inverse = 1 / 2 ** 53;

export class DeterministicRandom {
  private s0: bigint;
  private s1: bigint;
  private s2: bigint;
  private s3: bigint;

  constructor(seed: bigint) {
    seed = BigInt.asUintN(64, seed);
    this.s0 = mix((seed + Golden) & Mask);
    this.s1 = mix((seed + 2n * Golden) & Mask);
    this.s2 = mix((seed + 3n * Golden) & Mask);
    this.s3 = mix((seed + 4n * Golden) & Mask);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0n) this.s0 = Golden;
  }

  /** DeterministicRandom.Derive: a seed for an independent stream; parts are longs, wrapped as C#'s (ulong) cast does. */
  static derive(seed: bigint, ...parts: (number | bigint)[]): bigint {
    let h = mix(BigInt.asUintN(64, seed) ^ Golden);
    for (const part of parts) {
      const p = BigInt.asUintN(64, BigInt(part));
      h = mix(((h + Golden) & Mask) ^ mix((p + Golden) & Mask));
    }
    return h;
  }

  nextULong(): bigint {
    const result = (rotl((this.s1 * 5n) & Mask, 7n) * 9n) & Mask;
    const t = (this.s1 << 17n) & Mask;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 45n);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextDouble(): number {
    return Number(this.nextULong() >> 11n) * TwoPow53Inverse;
  }

  /** Uniform in [0, 1) with 24 random bits (a float32 value). */
  nextFloat(): number {
    return Number(this.nextULong() >> 40n) * (1 / (1 << 24));
  }

  /** Uniform in [0, n) by multiply-shift (the high 64 bits of x·n, Math.BigMul). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x7fffffff) throw new RangeError(`nextInt needs 0 < n < 2^31, got ${n}.`);
    return Number((this.nextULong() * BigInt(n)) >> 64n);
  }

  /** Standard normal by the polar form of Box-Muller, one value per call, with DeterministicMath.log. */
  nextGaussian(): number {
    for (;;) {
      const u = 2 * this.nextDouble() - 1;
      const v = 2 * this.nextDouble() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      return u * Math.sqrt((-2 * deterministicLog(s)) / s);
    }
  }
}

// ln 2 split so that k * Ln2Hi is exact for |k| < 2^11.
const Ln2Hi = 6.93147180369123816490e-1;
const Ln2Lo = 1.90821492927058770002e-10;
const Sqrt2 = 1.4142135623730951;

const scratch = new DataView(new ArrayBuffer(8));

/** DeterministicMath.Log: NaN below 0, −∞ at 0. */
export function deterministicLog(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return x;

  scratch.setFloat64(0, x);
  let exponent = (scratch.getUint32(0) >>> 20) & 0x7ff;
  if (exponent === 0) {
    x *= 18014398509481984.0; // 2^54, exact
    scratch.setFloat64(0, x);
    exponent = ((scratch.getUint32(0) >>> 20) & 0x7ff) - 54;
  }
  exponent -= 1023;
  // The mantissa with the exponent of 1.0: keep the low 52 bits, set the exponent field to 0x3FF.
  scratch.setUint32(0, (scratch.getUint32(0) & 0x000fffff) | 0x3ff00000);
  let m = scratch.getFloat64(0);
  if (m > Sqrt2) {
    m *= 0.5;
    exponent++;
  }
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  let p = 1.0 / 23;
  for (let k = 21; k >= 1; k -= 2) p = p * t2 + 1.0 / k;
  const lnM = 2 * t * p;
  return exponent * Ln2Hi + (exponent * Ln2Lo + lnM);
}

/** Math.Round(x): to nearest, ties to even (.NET's default, unlike JavaScript's Math.round). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Math.ScaleB(p, k): p·2^k with one rounding (two exact steps keep that true below 2^-1022 too). */
function scaleB(p: number, k: number): number {
  if (k > 1023) return p * 2 ** 1023 * 2 ** (k - 1023);
  if (k < -1022) return (p * 2 ** (k + 1022)) * 2 ** -1022;
  return p * 2 ** k;
}

/** DeterministicMath.Exp. */
export function deterministicExp(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  const k = roundHalfEven(x / (Ln2Hi + Ln2Lo));
  const r = x - k * Ln2Hi - k * Ln2Lo;
  let p = 1.0;
  for (let n = 16; n >= 1; n--) p = 1 + (p * r) / n;
  return scaleB(p, k);
}

/** DeterministicMath.Tanh. */
export function deterministicTanh(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a > 22) return Math.sign(x);
  const e = deterministicExp(-2 * a);
  const t = (1 - e) / (1 + e);
  return x < 0 ? -t : t;
}

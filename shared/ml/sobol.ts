/**
 * The Sobol low-discrepancy sequence (Bratley & Fox's construction with Joe & Kuo's direction
 * numbers), optionally Owen-scrambled by a seed. Point i is computed directly from the Gray code
 * of i + 1 (the all-zero first point of the textbook sequence is skipped, so point 0 of dimension
 * 1 is 0.5), so any trial's point is known without generating the ones before it.
 */

/**
 * Joe & Kuo's direction numbers (new-joe-kuo-6.21201, dimensions 2–32): for each dimension, the
 * degree s of its primitive polynomial, the polynomial's inner coefficients a (bits, highest
 * first), and the initial odd direction integers m_1..m_s. Dimension 1 is the van der Corput
 * sequence (all m = 1).
 */
const JOE_KUO: readonly (readonly [s: number, a: number, m: readonly number[]])[] = [
  [1, 0, [1]],
  [2, 1, [1, 3]],
  [3, 1, [1, 3, 1]],
  [3, 2, [1, 1, 1]],
  [4, 1, [1, 1, 3, 3]],
  [4, 4, [1, 3, 5, 13]],
  [5, 2, [1, 1, 5, 5, 17]],
  [5, 4, [1, 1, 5, 5, 5]],
  [5, 7, [1, 1, 7, 11, 19]],
  [5, 11, [1, 1, 5, 1, 1]],
  [5, 13, [1, 1, 1, 3, 11]],
  [5, 14, [1, 3, 5, 5, 31]],
  [6, 1, [1, 3, 3, 9, 7, 49]],
  [6, 13, [1, 1, 1, 15, 21, 21]],
  [6, 16, [1, 3, 1, 13, 27, 49]],
  [6, 19, [1, 1, 1, 15, 7, 5]],
  [6, 22, [1, 3, 1, 15, 13, 25]],
  [6, 25, [1, 1, 5, 5, 19, 61]],
  [7, 1, [1, 3, 7, 11, 23, 15, 103]],
  [7, 4, [1, 3, 7, 13, 13, 15, 69]],
  [7, 7, [1, 1, 3, 13, 7, 35, 63]],
  [7, 8, [1, 3, 5, 9, 1, 25, 53]],
  [7, 14, [1, 3, 1, 13, 9, 35, 107]],
  [7, 19, [1, 3, 1, 5, 27, 61, 31]],
  [7, 21, [1, 1, 5, 11, 19, 41, 61]],
  [7, 28, [1, 3, 5, 3, 3, 13, 69]],
  [7, 31, [1, 1, 7, 13, 1, 19, 1]],
  [7, 32, [1, 3, 7, 5, 13, 19, 59]],
  [7, 37, [1, 1, 3, 9, 25, 29, 41]],
  [7, 41, [1, 3, 5, 13, 23, 1, 55]],
  [7, 42, [1, 3, 7, 3, 13, 59, 17]],
];

/** How many dimensions (search-space parameters) the embedded direction numbers cover. */
export const SOBOL_MAX_DIMENSIONS = JOE_KUO.length + 1;

const BITS = 32;
const SCALE = 2 ** BITS;

/** Direction integers v_k (k = 0..31, as 32-bit fractions) of each dimension, built once. */
const DIRECTIONS: readonly Uint32Array[] = (() => {
  const all: Uint32Array[] = [];
  const first = new Uint32Array(BITS);
  for (let k = 0; k < BITS; k++) first[k] = 2 ** (BITS - 1 - k);
  all.push(first);
  for (const [s, a, m] of JOE_KUO) {
    const v = new Uint32Array(BITS);
    for (let k = 0; k < BITS; k++) {
      if (k < s) {
        v[k] = ((m[k] as number) * 2 ** (BITS - 1 - k)) >>> 0;
        continue;
      }
      // v_k = a_1 v_{k-1} ^ a_2 v_{k-2} ^ … ^ a_{s-1} v_{k-s+1} ^ v_{k-s} ^ (v_{k-s} >> s)
      const back = v[k - s] as number;
      let x = back ^ (back >>> s);
      for (let j = 1; j < s; j++) if ((a >>> (s - 1 - j)) & 1) x ^= v[k - j] as number;
      v[k] = x >>> 0;
    }
    all.push(v);
  }
  return all;
})();

/** A 32-bit integer mixer (the "lowbias32" finalizer): each input bit flips about half the output bits. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Owen's nested uniform scramble of one 32-bit coordinate: bit b (from the top) is flipped by a
 * random bit that depends on the seed, the dimension, b and the b bits above it, so points in the
 * same dyadic interval stay together and the (t, s)-net structure of the sequence is kept.
 */
function owenScramble(x: number, dimensionSeed: number): number {
  let out = 0;
  for (let b = 0; b < BITS; b++) {
    const shift = BITS - 1 - b;
    const prefix = b === 0 ? 0 : x >>> (BITS - b);
    const flip = mix32(mix32(dimensionSeed ^ Math.imul(b + 1, 0x9e3779b9)) ^ prefix) & 1;
    const bit = ((x >>> shift) & 1) ^ flip;
    out = (out | (bit << shift)) >>> 0;
  }
  return out;
}

/** The 32-bit Sobol integer of point `index` (0-based, origin skipped) in dimension `dimension` (0-based). */
function sobolInteger(index: number, dimension: number): number {
  const v = DIRECTIONS[dimension] as Uint32Array;
  let gray = index + 1;
  gray = gray ^ Math.floor(gray / 2);
  let x = 0;
  for (let k = 0; gray > 0 && k < BITS; k++, gray = Math.floor(gray / 2)) {
    if (gray % 2 === 1) x ^= v[k] as number;
  }
  return x >>> 0;
}

/**
 * Point `index` (0-based) of the `dimensions`-dimensional Sobol sequence, each coordinate in
 * [0, 1). With a `seed` the sequence is Owen-scrambled (coordinates then lie strictly inside (0, 1)):
 * each seed gives another equally well spread sequence.
 */
export function sobolPoint(index: number, dimensions: number, seed?: number): Float64Array {
  if (!Number.isInteger(index) || index < 0 || index >= SCALE - 1) {
    throw new RangeError(`index must be an integer in [0, 2^32 - 1); got ${index}`);
  }
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > SOBOL_MAX_DIMENSIONS) {
    throw new RangeError(`dimensions must be an integer in [1, ${SOBOL_MAX_DIMENSIONS}]; got ${dimensions}`);
  }
  const out = new Float64Array(dimensions);
  for (let d = 0; d < dimensions; d++) {
    const x = sobolInteger(index, d);
    out[d] =
      seed === undefined
        ? x / SCALE
        : (owenScramble(x, mix32((seed >>> 0) ^ Math.imul(d + 1, 0x85ebca6b))) + 0.5) / SCALE;
  }
  return out;
}

/**
 * The inverse of the standard normal CDF (Acklam's rational approximation, relative error below
 * 1.2e-9), for mapping a uniform coordinate onto a normal distribution.
 */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must lie in (0, 1); got ${p}`);
  const [a0, a1, a2, a3, a4, a5] = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ] as const;
  const [b0, b1, b2, b3, b4] = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ] as const;
  const [c0, c1, c2, c3, c4, c5] = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ] as const;
  const [d0, d1, d2, d3] = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] as const;
  const tail = (q: number): number =>
    (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  const low = 0.02425;
  if (p < low) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

/**
 * take_random_sample: keeps each row with a fixed probability, drawn from a seeded generator so
 * the same seed keeps the same rows on every read.
 */

/** Mulberry32: a small, fast 32-bit generator; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = foldSeed(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Any integer seed (negative, or wider than 32 bits) folded into 32 bits. */
function foldSeed(seed: number): number {
  const low = seed >>> 0;
  const high = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
  return (low ^ Math.imul(high, 0x9e3779b1)) >>> 0;
}

/** A predicate that is true for a row with the given probability. */
export function bernoulliSampler(probability: number, seed: number): () => boolean {
  if (!(probability > 0 && probability <= 1)) {
    throw new RangeError(`probability must be in (0, 1]; got ${String(probability)}.`);
  }
  const next = seededRandom(seed);
  return () => next() < probability;
}

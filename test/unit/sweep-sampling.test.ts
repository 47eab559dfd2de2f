// Sweep samplers (shared/ml/search-space.ts, shared/ml/sobol.ts): the Sobol sequence against its
// published first points, Owen scrambling per seed, its discrepancy against random sampling's, and
// the mapping of unit coordinates onto every search-space distribution.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SearchDistribution } from '../../shared/contracts/azureml/job-sweep.js';
import { ValidationError } from '../../shared/errors.js';
import { randomSampler, sobolSampler } from '../../shared/ml/search-space.js';
import type { Point } from '../../shared/ml/search-space.js';
import { SOBOL_MAX_DIMENSIONS, inverseNormalCdf, sobolPoint } from '../../shared/ml/sobol.js';

/** The L2-star discrepancy of points in the unit cube (Warnock's formula). */
function l2StarDiscrepancy(points: readonly ArrayLike<number>[]): number {
  const n = points.length;
  const d = points[0]?.length ?? 0;
  let single = 0;
  let pairs = 0;
  for (const x of points) {
    let p = 1;
    for (let k = 0; k < d; k++) p *= 1 - (x[k] as number) ** 2;
    single += p;
    for (const y of points) {
      let q = 1;
      for (let k = 0; k < d; k++) q *= 1 - Math.max(x[k] as number, y[k] as number);
      pairs += q;
    }
  }
  return Math.sqrt(3 ** -d - (2 ** (1 - d) / n) * single + pairs / (n * n));
}

const unitSpace = (d: number): Record<string, SearchDistribution> =>
  Object.fromEntries(Array.from({ length: d }, (_, k) => [`x${k}`, { type: 'uniform', min_value: 0, max_value: 1 }]));
const coordinates = (p: Point): number[] => Object.values(p).map(Number);

describe('Sobol sequence', () => {
  it('starts with the published points of the unscrambled sequence (origin skipped)', () => {
    const expected = [
      [0.5, 0.5],
      [0.75, 0.25],
      [0.25, 0.75],
      [0.375, 0.375],
      [0.875, 0.875],
      [0.625, 0.125],
      [0.125, 0.625],
    ];
    for (const [i, point] of expected.entries()) assert.deepEqual([...sobolPoint(i, 2)], point, `point ${i}`);
    // Dimension 3 (x^2 + x + 1, m = 1, 3) and the last embedded dimension start as Joe & Kuo's do.
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => sobolPoint(i, 3)[2]),
      [0.5, 0.25, 0.75, 0.625],
    );
    assert.equal(sobolPoint(0, SOBOL_MAX_DIMENSIONS)[SOBOL_MAX_DIMENSIONS - 1], 0.5);
  });

  it('is a (0, m, 1)-net in every dimension: each block of 2^m points fills the 2^m cells once', () => {
    for (let d = 0; d < SOBOL_MAX_DIMENSIONS; d++) {
      for (const seed of [undefined, 7]) {
        // Points 2^m - 1 .. 2^(m+1) - 2 (0-based, origin skipped) plus the origin's replacement form a net only
        // with the origin, so check the first 2^m - 1 points hit distinct cells.
        const m = 6;
        const cells = new Set<number>();
        for (let i = 0; i < 2 ** m - 1; i++) cells.add(Math.floor((sobolPoint(i, d + 1, seed)[d] as number) * 2 ** m));
        assert.equal(cells.size, 2 ** m - 1, `dimension ${d + 1}, seed ${seed}`);
      }
    }
  });

  it('is deterministic per seed, and another seed scrambles it differently', () => {
    const a = Array.from({ length: 16 }, (_, i) => [...sobolPoint(i, 5, 42)]);
    const b = Array.from({ length: 16 }, (_, i) => [...sobolPoint(i, 5, 42)]);
    const c = Array.from({ length: 16 }, (_, i) => [...sobolPoint(i, 5, 43)]);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    for (const p of [...a, ...c]) for (const x of p) assert.ok(x > 0 && x < 1);
  });

  it('has a lower discrepancy at 256 points than random sampling, scrambled or not', () => {
    for (const d of [2, 5]) {
      const seeds = [1, 2, 3, 4, 5];
      const random =
        seeds
          .map((s) =>
            l2StarDiscrepancy(
              Array.from({ length: 256 }, (_, i) => coordinates(randomSampler(unitSpace(d), s).point(i))),
            ),
          )
          .reduce((a, b) => a + b) / seeds.length;
      const plain = l2StarDiscrepancy(Array.from({ length: 256 }, (_, i) => sobolPoint(i, d)));
      assert.ok(plain < random / 2, `${d}-D: sobol ${plain} vs random ${random}`);
      for (const s of seeds) {
        const scrambled = l2StarDiscrepancy(
          Array.from({ length: 256 }, (_, i) => coordinates(sobolSampler(unitSpace(d), s).point(i))),
        );
        assert.ok(scrambled < random / 2, `${d}-D seed ${s}: scrambled sobol ${scrambled} vs random ${random}`);
      }
    }
  });

  it('refuses indices and dimensions it cannot serve', () => {
    assert.throws(() => sobolPoint(-1, 2), RangeError);
    assert.throws(() => sobolPoint(0, SOBOL_MAX_DIMENSIONS + 1), RangeError);
    assert.ok(SOBOL_MAX_DIMENSIONS >= 20);
  });

  it('inverts the normal CDF', () => {
    assert.equal(inverseNormalCdf(0.5), 0);
    assert.ok(Math.abs(inverseNormalCdf(0.975) - 1.959963984540054) < 1e-8);
    assert.ok(Math.abs(inverseNormalCdf(0.001) + 3.090232306167813) < 1e-8);
    assert.ok(Math.abs(inverseNormalCdf(1e-10) + 6.361340902404056) < 1e-7);
  });
});

describe('sobol sampler', () => {
  const space: Record<string, SearchDistribution> = {
    c: { type: 'choice', values: ['a', 'b', 'c', 'd'] },
    r: { type: 'randint', upper: 5 },
    u: { type: 'uniform', min_value: -1, max_value: 3 },
    qu: { type: 'quniform', min_value: 0, max_value: 10, q: 2 },
    lu: { type: 'loguniform', min_value: -3, max_value: 0 },
    qlu: { type: 'qloguniform', min_value: 0, max_value: 3, q: 0.5 },
    n: { type: 'normal', mu: 10, sigma: 2 },
    qn: { type: 'qnormal', mu: 0, sigma: 5, q: 1 },
    ln: { type: 'lognormal', mu: 0, sigma: 0.5 },
    qln: { type: 'qlognormal', mu: 1, sigma: 0.5, q: 0.25 },
  };

  it('maps each coordinate onto its distribution, as random sampling maps its uniforms', () => {
    const sampler = sobolSampler(space, 11);
    assert.equal(sampler.size, Infinity);
    const points = Array.from({ length: 512 }, (_, i) => sampler.point(i));
    const column = (k: string) => points.map((p) => p[k] as number);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    // A low-discrepancy sequence balances the categories over 2^m points (within the skipped origin's one).
    for (const v of ['a', 'b', 'c', 'd']) {
      const count = points.filter((p) => p['c'] === v).length;
      assert.ok(Math.abs(count - 128) <= 1, `${v}: ${count}`);
    }
    assert.deepEqual([...new Set(column('r'))].sort(), [0, 1, 2, 3, 4]);
    assert.ok(column('u').every((x) => x >= -1 && x < 3));
    assert.ok(Math.abs(mean(column('u')) - 1) < 0.01);
    assert.ok(column('qu').every((x) => x % 2 === 0 && x >= 0 && x <= 10));
    assert.ok(column('lu').every((x) => x >= Math.exp(-3) && x <= 1));
    assert.ok(column('qlu').every((x) => Number.isInteger(x / 0.5)));
    assert.ok(Math.abs(mean(column('n')) - 10) < 0.02, `normal mean ${mean(column('n'))}`);
    const sd = Math.sqrt(mean(column('n').map((x) => (x - 10) ** 2)));
    assert.ok(Math.abs(sd - 2) < 0.05, `normal sd ${sd}`);
    assert.ok(column('qn').every((x) => Number.isInteger(x)));
    assert.ok(column('ln').every((x) => x > 0));
    assert.ok(Math.abs(mean(column('ln').map(Math.log))) < 0.01);
    assert.ok(column('qln').every((x) => Number.isInteger(x / 0.25)));
  });

  it('gives trial i the same point on every call, and another seed another point', () => {
    assert.deepEqual(sobolSampler(space, 3).point(17), sobolSampler(space, 3).point(17));
    assert.notDeepEqual(sobolSampler(space, 3).point(17), sobolSampler(space, 4).point(17));
  });

  it('refuses nested choices and spaces wider than its direction numbers', () => {
    assert.throws(
      () => sobolSampler({ c: { type: 'choice', values: [{ x: 1 }] } }, 1),
      (err: unknown) => err instanceof ValidationError && /nested search spaces/.test(err.message),
    );
    assert.throws(
      () => sobolSampler(unitSpace(SOBOL_MAX_DIMENSIONS + 1), 1),
      (err: unknown) => err instanceof ValidationError && /at most \d+ parameters/.test(err.message),
    );
  });
});

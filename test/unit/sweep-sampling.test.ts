// Sweep samplers (shared/ml/search-space.ts, shared/ml/sobol.ts, shared/ml/bayesian.ts): the Sobol
// sequence against its published first points, Owen scrambling per seed, its discrepancy against
// random sampling's, the mapping of unit coordinates onto every search-space distribution, and
// Bayesian sampling against random sampling on a quadratic bowl.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SearchDistribution } from '../../shared/contracts/azureml/job-sweep.js';
import { ValidationError } from '../../shared/errors.js';
import { expectedImprovement, fitGaussianProcess } from '../../shared/ml/bayesian.js';
import type { Observation } from '../../shared/ml/bayesian.js';
import { bayesianSampler, randomSampler, sobolSampler } from '../../shared/ml/search-space.js';
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

describe('bayesian sampler', () => {
  const bowlSpace: Record<string, SearchDistribution> = {
    x: { type: 'uniform', min_value: -5, max_value: 5 },
    y: { type: 'uniform', min_value: -5, max_value: 5 },
  };
  const bowl = (p: Point): number => ((p['x'] as number) - 1.3) ** 2 + ((p['y'] as number) + 2.1) ** 2;

  /** The best bowl value after `n` trials proposed `batch` at a time, each batch after the previous one's results. */
  function bayesianBest(seed: number, n: number, batch: number): number {
    const sampler = bayesianSampler(bowlSpace, seed);
    const observations: Observation[] = [];
    for (let from = 0; from < n; from += batch) {
      for (const { point, unit } of sampler.propose(from, Math.min(batch, n - from), observations, [])) {
        observations.push({ unit, value: bowl(point) });
      }
    }
    return Math.min(...observations.map((o) => o.value));
  }
  const randomBest = (seed: number, n: number): number =>
    Math.min(...Array.from({ length: n }, (_, i) => bowl(randomSampler(bowlSpace, seed).point(i))));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  const seeds = [1, 2, 3, 4, 5, 6];

  it('beats random sampling on a 2-D quadratic bowl after 30 evaluations (averaged over seeds)', () => {
    const bayes = mean(seeds.map((s) => bayesianBest(s, 30, 1)));
    const random = mean(seeds.map((s) => randomBest(s, 30)));
    assert.ok(bayes < random / 4, `bayesian ${bayes} vs random ${random}`);
  });

  it('still beats random sampling when it proposes batches of 4, as a sweep with max_concurrent_trials: 4 does', () => {
    const bayes = mean(seeds.map((s) => bayesianBest(s, 32, 4)));
    const random = mean(seeds.map((s) => randomBest(s, 32)));
    assert.ok(bayes < random / 2, `bayesian ${bayes} vs random ${random}`);
  });

  it('starts with max(5, #parameters + 1) Sobol points, then proposes from the results, the same for the same inputs', () => {
    const wide: Record<string, SearchDistribution> = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, { type: 'uniform', min_value: 0, max_value: 1 }]),
    );
    const sampler = bayesianSampler(wide, 9);
    assert.equal(sampler.initial, 7);
    assert.equal(bayesianSampler(bowlSpace, 9).initial, 5);
    const first = sampler.propose(0, 7, [], []);
    for (const [i, { point }] of first.entries()) assert.deepEqual(point, sobolSampler(wide, 9).point(i));
    const observations = first.map(({ unit }) => ({ unit, value: unit.reduce((a, u) => a + (u - 0.2) ** 2, 0) }));
    const next = sampler.propose(7, 3, observations, []);
    assert.deepEqual(next, sampler.propose(7, 3, observations, []));
    assert.equal(next.length, 3);
    // Without results yet (every earlier trial failed), it keeps to the Sobol sequence.
    assert.deepEqual(sampler.propose(7, 1, [], [])[0]?.point, sobolSampler(wide, 9).point(7));
    // The batch's points differ from each other and from what was tried.
    const seen = new Set([...first, ...next].map((c) => c.unit.join()));
    assert.equal(seen.size, 10);
  });

  it('maps choice and the log and quantized uniforms from its unit points', () => {
    const space: Record<string, SearchDistribution> = {
      c: { type: 'choice', values: ['adam', 'sgd'] },
      lr: { type: 'loguniform', min_value: -7, max_value: -1 },
      q: { type: 'quniform', min_value: 8, max_value: 64, q: 8 },
      ql: { type: 'qloguniform', min_value: 0, max_value: 4, q: 1 },
    };
    const sampler = bayesianSampler(space, 2);
    const observations: Observation[] = [];
    for (let from = 0; from < 12; from += 3) {
      for (const { point, unit } of sampler.propose(from, 3, observations, [])) {
        assert.ok(['adam', 'sgd'].includes(point['c'] as string));
        assert.ok((point['lr'] as number) >= Math.exp(-7) && (point['lr'] as number) <= Math.exp(-1));
        assert.equal((point['q'] as number) % 8, 0);
        assert.ok(Number.isInteger(point['ql']));
        observations.push({
          unit,
          value: Math.abs(Math.log(point['lr'] as number) + 4) + (point['c'] === 'sgd' ? 1 : 0),
        });
      }
    }
  });

  it('refuses the distributions Azure ML refuses, naming the parameter', () => {
    for (const type of ['normal', 'lognormal', 'qnormal', 'qlognormal'] as const) {
      const d = (
        type.startsWith('q') ? { type, mu: 0, sigma: 1, q: 1 } : { type, mu: 0, sigma: 1 }
      ) as SearchDistribution;
      assert.throws(
        () => bayesianSampler({ ok: { type: 'uniform', min_value: 0, max_value: 1 }, bad: d }, 1),
        (err: unknown) =>
          err instanceof ValidationError &&
          err.target === 'search_space.bad' &&
          new RegExp(`got ${type}`).test(err.message),
      );
    }
    assert.throws(
      () => bayesianSampler({ r: { type: 'randint', upper: 3 } }, 1),
      (err: unknown) =>
        err instanceof ValidationError && /search_space\.r: bayesian sampling takes only/.test(err.message),
    );
  });

  it('fits a GP that interpolates its points and an expected improvement that prefers low, uncertain means', () => {
    const xs = [[0.1], [0.4], [0.7], [0.9]];
    const ys = [1, 0.2, 0.5, 2];
    const gp = fitGaussianProcess(xs, ys);
    for (const [i, x] of xs.entries()) assert.ok(Math.abs(gp.predict(x).mean - (ys[i] as number)) < 0.1);
    assert.ok(gp.predict([0.4]).sd < gp.predict([0.55]).sd);
    assert.ok(expectedImprovement(0, 1, 0.5) > expectedImprovement(1, 1, 0.5));
    assert.ok(expectedImprovement(1, 2, 0.5) > expectedImprovement(1, 0.1, 0.5));
    assert.equal(expectedImprovement(1, 0, 0.5), 0);
  });
});

import type { SearchDistribution } from '../contracts/azureml/job-sweep.js';
import { ValidationError } from '../errors.js';
import { proposeBayesian } from './bayesian.js';
import type { Observation } from './bayesian.js';
import { Rng } from './rng.js';
import { SOBOL_MAX_DIMENSIONS, inverseNormalCdf, sobolPoint } from './sobol.js';

/**
 * Points of a sweep's search space, as Azure ML samples them: `grid` walks every combination of
 * `choice` values in order; `random` draws each trial's point from its own seeded stream, so trial
 * i has the same parameters however many trials ran before it (reproducible, restartable); `sobol`
 * takes trial i's point from the i-th point of a scrambled Sobol sequence, one dimension per
 * parameter, mapped onto each distribution as random maps its uniform draws.
 */

export type ParameterValue = string | number | boolean;
export type Point = Record<string, ParameterValue>;

export interface Sampler {
  /** How many points exist (grid), or Infinity (random). */
  readonly size: number;
  point(index: number): Point;
}

function choiceValues(key: string, d: SearchDistribution): ParameterValue[] {
  if (d.type !== 'choice') {
    throw new ValidationError(`search_space.${key}: grid sampling takes only choice(...) parameters; got ${d.type}.`, {
      target: `search_space.${key}`,
    });
  }
  return d.values.map((v, i) => {
    if (v === null || typeof v === 'object') {
      throw new ValidationError(
        `search_space.${key}.values[${i}]: nested search spaces in choice(...) are not supported yet; give plain values.`,
        { target: `search_space.${key}` },
      );
    }
    return v;
  });
}

export function gridSampler(space: Readonly<Record<string, SearchDistribution>>): Sampler {
  const keys = Object.keys(space);
  const values = keys.map((k) => choiceValues(k, space[k] as SearchDistribution));
  const size = values.reduce((n, v) => n * v.length, 1);
  return {
    size,
    point(index) {
      const point: Point = {};
      let rest = index;
      for (let k = keys.length - 1; k >= 0; k--) {
        const options = values[k] as ParameterValue[];
        point[keys[k] as string] = options[rest % options.length] as ParameterValue;
        rest = Math.floor(rest / options.length);
      }
      return Object.fromEntries(keys.map((k) => [k, point[k] as ParameterValue]));
    },
  };
}

/** Where a sampler's values come from: uniforms in [0, 1), indices in [0, n), standard normals. */
interface UniformSource {
  next(): number;
  int(n: number): number;
  gaussian(): number;
}

function rngSource(rng: Rng): UniformSource {
  return {
    next: () => rng.next(),
    int: (n) => rng.int(n),
    gaussian() {
      // Box-Muller; 1 - u keeps log away from 0.
      const u = 1 - rng.next();
      const v = rng.next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/** One coordinate `u` in [0, 1) of a low-discrepancy point, as the only draw of one parameter. */
function coordinateSource(u: number): UniformSource {
  return {
    next: () => u,
    int(n) {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`n must be a positive integer; got ${n}`);
      return Math.min(n - 1, Math.floor(u * n));
    },
    // The normal quantile of u (never 0: sobol points skip the origin and scrambled ones lie inside (0, 1)).
    gaussian: () => inverseNormalCdf(Math.min(Math.max(u, Number.MIN_VALUE), 1 - Number.EPSILON / 2)),
  };
}

function quantize(x: number, q: number): number {
  return Math.round(x / q) * q;
}

function draw(key: string, d: SearchDistribution, src: UniformSource): ParameterValue {
  switch (d.type) {
    case 'choice': {
      const values = choiceValues(key, d);
      return values[src.int(values.length)] as ParameterValue;
    }
    case 'randint':
      return src.int(d.upper);
    case 'uniform':
      return d.min_value + src.next() * (d.max_value - d.min_value);
    case 'loguniform':
      return Math.exp(d.min_value + src.next() * (d.max_value - d.min_value));
    case 'quniform':
      return quantize(d.min_value + src.next() * (d.max_value - d.min_value), d.q);
    case 'qloguniform':
      return quantize(Math.exp(d.min_value + src.next() * (d.max_value - d.min_value)), d.q);
    case 'normal':
      return d.mu + d.sigma * src.gaussian();
    case 'lognormal':
      return Math.exp(d.mu + d.sigma * src.gaussian());
    case 'qnormal':
      return quantize(d.mu + d.sigma * src.gaussian(), d.q);
    case 'qlognormal':
      return quantize(Math.exp(d.mu + d.sigma * src.gaussian()), d.q);
  }
}

/** The parameter values of a point of the unit cube (one coordinate per parameter, in key order). */
export function pointOfUnit(space: Readonly<Record<string, SearchDistribution>>, unit: ArrayLike<number>): Point {
  return Object.fromEntries(
    Object.keys(space).map((k, i) => [k, draw(k, space[k] as SearchDistribution, coordinateSource(unit[i] as number))]),
  );
}

export function randomSampler(space: Readonly<Record<string, SearchDistribution>>, seed: number): Sampler {
  const keys = Object.keys(space);
  for (const k of keys) {
    const d = space[k] as SearchDistribution;
    if (d.type === 'choice') choiceValues(k, d);
  }
  const root = new Rng(seed);
  return {
    size: Infinity,
    point(index) {
      const src = rngSource(root.fork(index));
      return Object.fromEntries(keys.map((k) => [k, draw(k, space[k] as SearchDistribution, src)]));
    },
  };
}

/** Checks that a space can be sampled from the unit cube: plain choice values, at most SOBOL_MAX_DIMENSIONS parameters. */
export function checkUnitSpace(space: Readonly<Record<string, SearchDistribution>>, algorithm: string): void {
  const keys = Object.keys(space);
  if (keys.length > SOBOL_MAX_DIMENSIONS) {
    throw new ValidationError(
      `search_space: ${algorithm} sampling handles at most ${SOBOL_MAX_DIMENSIONS} parameters; this space has ${keys.length}. Use rule: random, or fewer parameters.`,
      { target: 'search_space' },
    );
  }
  for (const k of keys) {
    const d = space[k] as SearchDistribution;
    if (d.type === 'choice') choiceValues(k, d);
  }
}

/**
 * Sobol sampling (`sampling_algorithm: {type: random, rule: sobol}`): trial i's point is point i
 * of the Sobol sequence in as many dimensions as parameters, Owen-scrambled by `seed`.
 */
export function sobolSampler(space: Readonly<Record<string, SearchDistribution>>, seed: number): Sampler {
  checkUnitSpace(space, 'sobol');
  const dimensions = Math.max(1, Object.keys(space).length);
  return {
    size: Infinity,
    point: (index) => pointOfUnit(space, sobolPoint(index, dimensions, seed)),
  };
}

/** The distributions Azure ML's Bayesian sampling accepts. */
const BAYESIAN_TYPES: readonly SearchDistribution['type'][] = [
  'choice',
  'uniform',
  'quniform',
  'loguniform',
  'qloguniform',
];

/** A sampler that learns: trial i's point depends on the results of the trials before it. */
export interface AdaptiveSampler extends Sampler {
  /** How many first points come from the Sobol sequence before the model takes over. */
  readonly initial: number;
  /**
   * The points (and their unit-cube coordinates) of trials `from` .. `from + count - 1`, given the
   * completed trials' coordinates and objective values (to be minimised) and the running trials'
   * coordinates.
   */
  propose(
    from: number,
    count: number,
    observations: readonly Observation[],
    pending: readonly (readonly number[])[],
  ): { point: Point; unit: number[] }[];
}

/**
 * Bayesian sampling (`sampling_algorithm: bayesian`): the first max(5, #parameters + 1) points
 * are the scrambled Sobol sequence's, the rest maximise the expected improvement of a Gaussian
 * process fitted to the completed trials (shared/ml/bayesian.ts). Azure ML allows only choice,
 * uniform, quniform, loguniform and qloguniform parameters.
 */
export function bayesianSampler(space: Readonly<Record<string, SearchDistribution>>, seed: number): AdaptiveSampler {
  for (const [k, d] of Object.entries(space)) {
    if (!BAYESIAN_TYPES.includes(d.type)) {
      throw new ValidationError(
        `search_space.${k}: bayesian sampling takes only ${BAYESIAN_TYPES.join(', ')} parameters; got ${d.type}. Use one of those, or random sampling.`,
        { target: `search_space.${k}` },
      );
    }
  }
  checkUnitSpace(space, 'bayesian');
  const dimensions = Math.max(1, Object.keys(space).length);
  const initial = Math.max(5, dimensions + 1);
  const sobol = (index: number): number[] => [...sobolPoint(index, dimensions, seed)];
  return {
    size: Infinity,
    initial,
    point: (index) => pointOfUnit(space, sobol(index)),
    propose(from, count, observations, pending) {
      const units: number[][] = [];
      const usable = observations.filter((o) => Number.isFinite(o.value));
      let modelled = 0;
      for (let i = from; i < from + count; i++) {
        if (i < initial || usable.length < 2) units.push(sobol(i));
        else modelled++;
      }
      if (modelled > 0) {
        units.push(
          ...proposeBayesian({
            dimensions,
            observations: usable,
            pending: [...pending, ...units],
            count: modelled,
            seed,
            index: from + count - modelled,
          }),
        );
      }
      return units.map((unit) => ({ point: pointOfUnit(space, unit), unit }));
    },
  };
}

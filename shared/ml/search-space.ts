import type { SearchDistribution } from '../contracts/azureml/job-sweep.js';
import { ValidationError } from '../errors.js';
import { Rng } from './rng.js';

/**
 * Points of a sweep's search space, as Azure ML samples them: `grid` walks every combination of
 * `choice` values in order; `random` draws each trial's point from its own seeded stream, so trial
 * i has the same parameters however many trials ran before it (reproducible, restartable).
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

function normal(rng: Rng): number {
  // Box-Muller; 1 - u keeps log away from 0.
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function quantize(x: number, q: number): number {
  return Math.round(x / q) * q;
}

function draw(key: string, d: SearchDistribution, rng: Rng): ParameterValue {
  switch (d.type) {
    case 'choice': {
      const values = choiceValues(key, d);
      return values[rng.int(values.length)] as ParameterValue;
    }
    case 'randint':
      return rng.int(d.upper);
    case 'uniform':
      return d.min_value + rng.next() * (d.max_value - d.min_value);
    case 'loguniform':
      return Math.exp(d.min_value + rng.next() * (d.max_value - d.min_value));
    case 'quniform':
      return quantize(d.min_value + rng.next() * (d.max_value - d.min_value), d.q);
    case 'qloguniform':
      return quantize(Math.exp(d.min_value + rng.next() * (d.max_value - d.min_value)), d.q);
    case 'normal':
      return d.mu + d.sigma * normal(rng);
    case 'lognormal':
      return Math.exp(d.mu + d.sigma * normal(rng));
    case 'qnormal':
      return quantize(d.mu + d.sigma * normal(rng), d.q);
    case 'qlognormal':
      return quantize(Math.exp(d.mu + d.sigma * normal(rng)), d.q);
  }
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
      const rng = root.fork(index);
      return Object.fromEntries(keys.map((k) => [k, draw(k, space[k] as SearchDistribution, rng)]));
    },
  };
}

import { Rng } from './rng.js';
import { mix32, sobolPoint } from './sobol.js';

/**
 * Bayesian optimisation on the unit cube: a Gaussian process (Matérn 5/2 kernel, length scale and
 * noise chosen by marginal likelihood from a small grid) fitted to the completed trials, and the
 * next points chosen by expected improvement over a deterministic candidate set (a scrambled Sobol
 * set and perturbations of the best points, then a short pattern search). A batch of several
 * points is chosen one at a time, each earlier choice (and each trial still running) standing in
 * the model at its predicted mean ("kriging believer"), so the batch spreads out. Everything is a
 * function of the seed, the proposal's index and the observations: the same inputs give the same
 * points.
 */

/** A completed trial: its point in the unit cube and its objective value, to be minimised. */
export interface Observation {
  unit: readonly number[];
  value: number;
}

export interface BayesianProposalInput {
  dimensions: number;
  observations: readonly Observation[];
  /** Points of trials that are running: kept away from, as if they scored their predicted mean. */
  pending?: readonly (readonly number[])[];
  /** How many points to choose. */
  count: number;
  seed: number;
  /** The index of the first point to choose (varies the candidate set between proposals). */
  index: number;
}

/** Past this many observations the model keeps the best half and the most recent others (O(n³) fits). */
const MAX_MODEL_POINTS = 256;
const LENGTH_SCALES = [0.05, 0.1, 0.2, 0.35, 0.6, 1, 1.6];
const NOISES = [1e-6, 1e-4, 1e-2, 1e-1];
const SOBOL_CANDIDATES = 1024;
const LOCAL_CANDIDATES = 48;
const PATTERN_STEPS = 60;
/** Exploration margin of expected improvement, in standard deviations of the observed values. */
const XI = 0.01;

function matern52(a: readonly number[], b: readonly number[], lengthScale: number): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const d = (a[k] as number) - (b[k] as number);
    s += d * d;
  }
  const r = Math.sqrt(5 * s) / lengthScale;
  return (1 + r + (r * r) / 3) * Math.exp(-r);
}

/** The lower Cholesky factor of a symmetric positive-definite n×n matrix (row-major), or undefined. */
function cholesky(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / (l[j * n + j] as number);
      }
    }
  }
  return l;
}

/** Solves L x = b (forward) in place. */
function forward(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (b[k] as number);
    b[i] = s / (l[i * n + i] as number);
  }
  return b;
}

/** Solves Lᵀ x = b (backward) in place. */
function backward(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (b[k] as number);
    b[i] = s / (l[i * n + i] as number);
  }
  return b;
}

/** A Gaussian process fitted to standardised values. */
export interface GaussianProcess {
  lengthScale: number;
  noise: number;
  /** Mean and standard deviation of the prediction at `x`, in the observations' own units. */
  predict(x: readonly number[]): { mean: number; sd: number };
}

interface Fit {
  l: Float64Array;
  alpha: Float64Array;
  logLikelihood: number;
}

function fitWith(
  xs: readonly (readonly number[])[],
  y: Float64Array,
  lengthScale: number,
  noise: number,
): Fit | undefined {
  const n = xs.length;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = matern52(xs[i] as number[], xs[j] as number[], lengthScale);
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
    k[i * n + i] = (k[i * n + i] as number) + noise;
  }
  const l = cholesky(k, n);
  if (l === undefined) return undefined;
  const alpha = backward(l, n, forward(l, n, Float64Array.from(y)));
  let logLikelihood = -0.5 * n * Math.log(2 * Math.PI);
  for (let i = 0; i < n; i++)
    logLikelihood -= 0.5 * (y[i] as number) * (alpha[i] as number) + Math.log(l[i * n + i] as number);
  return { l, alpha, logLikelihood };
}

/**
 * Fits a GP to `xs` → `values`; with `hyper`, keeps those hyperparameters (a refit after adding a
 * believed point), otherwise picks the pair of the grid with the highest marginal likelihood.
 */
export function fitGaussianProcess(
  xs: readonly (readonly number[])[],
  values: readonly number[],
  hyper?: { lengthScale: number; noise: number; center: number; scale: number },
): GaussianProcess & { center: number; scale: number } {
  const n = xs.length;
  if (n === 0 || values.length !== n)
    throw new RangeError(`a GP needs matching, non-empty points and values; got ${n} and ${values.length}`);
  const center = hyper?.center ?? values.reduce((a, b) => a + b, 0) / n;
  const spread = Math.sqrt(values.reduce((a, b) => a + (b - center) ** 2, 0) / n);
  const scale = hyper?.scale ?? (spread > 0 ? spread : 1);
  const y = Float64Array.from(values, (v) => (v - center) / scale);
  let best: (Fit & { lengthScale: number; noise: number }) | undefined;
  const pairs =
    hyper === undefined
      ? LENGTH_SCALES.flatMap((ls) => NOISES.map((nz) => [ls, nz] as const))
      : [[hyper.lengthScale, hyper.noise] as const];
  for (const [lengthScale, noise] of pairs) {
    const fit = fitWith(xs, y, lengthScale, noise);
    if (fit !== undefined && (best === undefined || fit.logLikelihood > best.logLikelihood))
      best = { ...fit, lengthScale, noise };
  }
  // A jittered fallback: some noise always makes the kernel matrix positive definite.
  best ??= { ...(fitWith(xs, y, 0.2, 0.1) as Fit), lengthScale: 0.2, noise: 0.1 };
  const { l, alpha, lengthScale, noise } = best;
  return {
    lengthScale,
    noise,
    center,
    scale,
    predict(x) {
      const kx = new Float64Array(n);
      let mean = 0;
      for (let i = 0; i < n; i++) {
        kx[i] = matern52(x, xs[i] as number[], lengthScale);
        mean += (kx[i] as number) * (alpha[i] as number);
      }
      const v = forward(l, n, kx);
      let variance = 1;
      for (let i = 0; i < n; i++) variance -= (v[i] as number) ** 2;
      return { mean: center + scale * mean, sd: scale * Math.sqrt(Math.max(variance, 1e-12)) };
    },
  };
}

/** The complementary error function (Numerical Recipes' erfcc: fractional error below 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + z / 2);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** Expected improvement below `best` of a normal prediction (minimisation). */
export function expectedImprovement(mean: number, sd: number, best: number, xi = 0): number {
  if (!(sd > 0)) return Math.max(best - xi - mean, 0);
  const gain = best - xi - mean;
  const z = gain / sd;
  const cdf = 0.5 * erfc(-z / Math.SQRT2);
  const pdf = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  return gain * cdf + sd * pdf;
}

const clip = (u: number): number => Math.min(Math.max(u, 0), 1 - 1e-9);

/** The observations the model is fitted to: all of them, or past MAX_MODEL_POINTS the best half and the latest others. */
function modelPoints(observations: readonly Observation[]): Observation[] {
  if (observations.length <= MAX_MODEL_POINTS) return [...observations];
  const order = observations.map((o, i) => [o.value, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const keep = new Set(order.slice(0, MAX_MODEL_POINTS / 2).map(([, i]) => i));
  for (let i = observations.length - 1; keep.size < MAX_MODEL_POINTS; i--) keep.add(i);
  return [...keep].sort((a, b) => a - b).map((i) => observations[i] as Observation);
}

/** Chooses `count` points of the unit cube by expected improvement (see the file comment). */
export function proposeBayesian(input: BayesianProposalInput): number[][] {
  const { dimensions, count, seed, index } = input;
  const observed = modelPoints(input.observations.filter((o) => Number.isFinite(o.value)));
  if (observed.length === 0) throw new RangeError('bayesian proposals need at least one observation');
  const xs: number[][] = observed.map((o) => [...o.unit]);
  const ys: number[] = observed.map((o) => o.value);
  const bestObserved = Math.min(...ys);
  let model = fitGaussianProcess(xs, ys);
  const hyper = { lengthScale: model.lengthScale, noise: model.noise, center: model.center, scale: model.scale };
  const believe = (x: readonly number[]): void => {
    xs.push([...x]);
    ys.push(model.predict(x).mean);
    model = fitGaussianProcess(xs, ys, hyper);
  };
  for (const p of input.pending ?? []) believe(p);

  const chosen: number[][] = [];
  for (let b = 0; b < count; b++) {
    const salt = mix32((seed >>> 0) ^ mix32(index + b + 1));
    const rng = new Rng(salt);
    const score = (x: readonly number[]): number => {
      const { mean, sd } = model.predict(x);
      return expectedImprovement(mean, sd, bestObserved, XI * model.scale);
    };
    const candidates: number[][] = [];
    for (let j = 0; j < SOBOL_CANDIDATES; j++) candidates.push([...sobolPoint(j, dimensions, salt)]);
    const elite = observed
      .map((o, i) => [o.value, i] as const)
      .sort((p, q) => p[0] - q[0] || p[1] - q[1])
      .slice(0, 5);
    for (const [, i] of elite) {
      const center = (observed[i] as Observation).unit;
      for (let j = 0; j < LOCAL_CANDIDATES; j++) {
        const width = [0.02, 0.08, 0.2][j % 3] as number;
        candidates.push(center.map((u) => clip(u + width * gaussian(rng))));
      }
    }
    let best = candidates[0] as number[];
    let bestScore = -Infinity;
    for (const c of candidates) {
      const s = score(c);
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (!(bestScore > 1e-12)) {
      // Nothing is expected to improve: explore where the model is least sure, near low means.
      const bound = (x: readonly number[]) => {
        const { mean, sd } = model.predict(x);
        return -(mean - 2 * sd);
      };
      bestScore = -Infinity;
      for (const c of candidates) {
        const s = bound(c);
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
    } else {
      // A short pattern search from the best candidate, with shrinking random steps.
      let step = 0.05;
      for (let t = 0; t < PATTERN_STEPS; t++) {
        const trial = best.map((u) => clip(u + step * gaussian(rng)));
        const s = score(trial);
        if (s > bestScore) {
          bestScore = s;
          best = trial;
        } else if (t % 10 === 9) {
          step /= 2;
        }
      }
    }
    chosen.push(best);
    if (b < count - 1) believe(best);
  }
  return chosen;
}

function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Additive exponential smoothing for forecasting trials: no trend, an additive trend, or a damped
 * one (Gardner & McKenzie), with an optional additive season (Hyndman & Athanasopoulos, FPP §8):
 *
 *   forecast  y(t|t-1) = l(t-1) + phi b(t-1) + s(t-m)
 *   level     l(t) = alpha (y(t) - s(t-m)) + (1 - alpha) (l(t-1) + phi b(t-1))
 *   trend     b(t) = beta (l(t) - l(t-1)) + (1 - beta) phi b(t-1)
 *   season    s(t) = gamma (y(t) - l(t-1) - phi b(t-1)) + (1 - gamma) s(t-m)
 *   h ahead   l(T) + (phi + ... + phi^h) b(T) + s(T + h - m k)
 *
 * Why not shared/ml/forecast/exponential-smoothing.ts: it has no damped trend, and it starts from
 * heuristic initial states. Here the initial states are estimated, as statsmodels'
 * initialization_method='estimated' does, which forecasts better on the benchmark's backtests. For
 * fixed smoothing parameters the one-step errors are affine in the initial states, so the best
 * initial states are a small least-squares solve; Nelder-Mead searches only alpha, beta, gamma
 * and phi (phi in [0.8, 0.98], the range Hyndman recommends), from two fixed starts, so fits
 * are deterministic.
 */
import { nelderMead } from '../forecast/nelder-mead.js';

export type SmoothingTrend = 'none' | 'additive' | 'damped';

/** A fitted additive smoothing model's state after the last observation (JSON-friendly). */
export interface SmoothingState {
  alpha: number;
  beta: number;
  gamma: number;
  /** Trend damping: 1 undamped (or no trend: slope 0). */
  phi: number;
  level: number;
  slope: number;
  /** season[i] applies to the (i+1)-th period after the last observation, cyclically; [0] without one. */
  season: number[];
}

const PHI_MIN = 0.8;
const PHI_MAX = 0.98;
const logistic = (u: number): number => 1 / (1 + Math.exp(-u));
const logit = (p: number): number => Math.log(p / (1 - p));

interface Params {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

interface States {
  level: number;
  slope: number;
  /** Indexed by t mod m: s(t - m) for the next t. */
  season: Float64Array;
}

/** Runs the recursions from `init`, writing one-step errors into `errors`; y = 0 when `y` is null. */
function run(
  y: ArrayLike<number> | null,
  n: number,
  m: number,
  trend: boolean,
  p: Params,
  init: States,
  errors: Float64Array,
): States {
  let level = init.level;
  let slope = init.slope;
  const season = Float64Array.from(init.season);
  for (let t = 0; t < n; t++) {
    const slot = m > 1 ? t % m : 0;
    const s = m > 1 ? (season[slot] as number) : 0;
    const yt = y === null ? 0 : (y[t] as number);
    const damped = trend ? p.phi * slope : 0;
    errors[t] = yt - (level + damped + s);
    const previousLevel = level;
    level = p.alpha * (yt - s) + (1 - p.alpha) * (level + damped);
    if (trend) slope = p.beta * (level - previousLevel) + (1 - p.beta) * damped;
    if (m > 1) season[slot] = p.gamma * (yt - previousLevel - damped) + (1 - p.gamma) * s;
  }
  return { level, slope, season };
}

/** Solves the symmetric system A x = b (A row-major k×k) by Gaussian elimination with pivoting. */
function solve(A: Float64Array, b: Float64Array, k: number): Float64Array {
  const a = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++)
      if (Math.abs(a[r * k + c] as number) > Math.abs(a[pivot * k + c] as number)) pivot = r;
    if (pivot !== c) {
      for (let j = 0; j < k; j++) {
        const t = a[c * k + j] as number;
        a[c * k + j] = a[pivot * k + j] as number;
        a[pivot * k + j] = t;
      }
      const t = x[c] as number;
      x[c] = x[pivot] as number;
      x[pivot] = t;
    }
    const d = a[c * k + c] as number;
    if (d === 0) continue;
    for (let r = c + 1; r < k; r++) {
      const f = (a[r * k + c] as number) / d;
      if (f === 0) continue;
      for (let j = c; j < k; j++) a[r * k + j] = (a[r * k + j] as number) - f * (a[c * k + j] as number);
      x[r] = (x[r] as number) - f * (x[c] as number);
    }
  }
  for (let c = k - 1; c >= 0; c--) {
    let s = x[c] as number;
    for (let j = c + 1; j < k; j++) s -= (a[c * k + j] as number) * (x[j] as number);
    const d = a[c * k + c] as number;
    x[c] = d === 0 ? 0 : s / d;
  }
  return x;
}

/** The initial states as a vector: level, slope (with a trend), the first m - 1 seasons (the last makes them sum to 0). */
function statesOf(x: ArrayLike<number>, m: number, trend: boolean): States {
  let i = 0;
  const level = x[i++] as number;
  const slope = trend ? (x[i++] as number) : 0;
  const season = new Float64Array(m > 1 ? m : 1);
  if (m > 1) {
    let sum = 0;
    for (let j = 0; j < m - 1; j++) {
      season[j] = x[i++] as number;
      sum += season[j] as number;
    }
    season[m - 1] = -sum;
  }
  return { level, slope, season };
}

interface Concentrated {
  sse: number;
  init: States;
}

/** For fixed parameters: the least-squares initial states and the sum of squared one-step errors. */
function concentrate(y: ArrayLike<number>, m: number, trend: boolean, p: Params): Concentrated {
  const n = y.length;
  const k = 1 + (trend ? 1 : 0) + (m > 1 ? m - 1 : 0);
  const zero = statesOf(new Float64Array(k), m, trend);
  const e0 = new Float64Array(n);
  run(y, n, m, trend, p, zero, e0);
  // Column j: the errors' response to a unit of initial state j (y = 0).
  const E: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const unit = new Float64Array(k);
    unit[j] = 1;
    const col = new Float64Array(n);
    run(null, n, m, trend, p, statesOf(unit, m, trend), col);
    E.push(col);
  }
  const A = new Float64Array(k * k);
  const b = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const ei = E[i] as Float64Array;
    for (let j = i; j < k; j++) {
      const ej = E[j] as Float64Array;
      let s = 0;
      for (let t = 0; t < n; t++) s += (ei[t] as number) * (ej[t] as number);
      A[i * k + j] = s;
      A[j * k + i] = s;
    }
    let s = 0;
    for (let t = 0; t < n; t++) s += (ei[t] as number) * (e0[t] as number);
    b[i] = -s;
  }
  // A touch of ridge keeps a flat direction (a parameter at a bound) solvable.
  let trace = 0;
  for (let i = 0; i < k; i++) trace += A[i * k + i] as number;
  for (let i = 0; i < k; i++) A[i * k + i] = (A[i * k + i] as number) + 1e-10 * (trace / k + 1);
  const x = solve(A, b, k);
  let sse = 0;
  for (let t = 0; t < n; t++) {
    let e = e0[t] as number;
    for (let j = 0; j < k; j++) e += (x[j] as number) * ((E[j] as Float64Array)[t] as number);
    sse += e * e;
  }
  return { sse, init: statesOf(x, m, trend) };
}

/**
 * Fits additive smoothing with `trend` and an additive season of `seasonLength` (1: none). A
 * season needs two full cycles plus one point, else it is dropped; a trend needs 3 points.
 */
export function fitSmoothing(values: ArrayLike<number>, trendKind: SmoothingTrend, seasonLength = 1): SmoothingState {
  const n = values.length;
  if (n < 1) throw new RangeError('values is empty');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i] as number)) throw new RangeError(`values[${i}] is not finite`);
  }
  const kind: SmoothingTrend = n < 3 ? 'none' : trendKind;
  const trend = kind !== 'none';
  const damped = kind === 'damped';
  const m = seasonLength > 1 && n >= 2 * seasonLength + 1 ? seasonLength : 1;
  const seasonal = m > 1;
  const unpack = (u: Float64Array): Params => {
    let i = 0;
    const alpha = logistic(u[i++] as number);
    const beta = trend ? logistic(u[i++] as number) : 0;
    const phi = damped ? PHI_MIN + (PHI_MAX - PHI_MIN) * logistic(u[i++] as number) : 1;
    const gamma = seasonal ? logistic(u[i++] as number) : 0;
    return { alpha, beta, gamma, phi };
  };
  const objective = (u: Float64Array): number => concentrate(values, m, trend, unpack(u)).sse;
  const dims = 1 + (trend ? 1 : 0) + (damped ? 1 : 0) + (seasonal ? 1 : 0);
  let best: { x: Float64Array; value: number } | undefined;
  // Two starts, a slowly adapting model (statsmodels' usual region) and a quickly adapting one; the
  // lower SSE wins. The SSE surface can have several shallow minima, so the starts matter.
  for (const [a, b, g] of [
    [0.5, 0.05, 0.1],
    [0.9, 0.3, 0.3],
  ] as const) {
    const start = [logit(a)];
    if (trend) start.push(logit(b));
    if (damped) start.push(0);
    if (seasonal) start.push(logit(g));
    const result = nelderMead(objective, start, { step: 1, maxIterations: 100 * dims, tolerance: 1e-8 });
    if (best === undefined || result.value < best.value) best = result;
  }
  const p = unpack((best as { x: Float64Array }).x);
  const { init } = concentrate(values, m, trend, p);
  const final = run(values, n, m, trend, p, init, new Float64Array(n));
  const season = Array.from({ length: m }, (_, i) => (seasonal ? (final.season[(n + i) % m] as number) : 0));
  return { ...p, level: final.level, slope: final.slope, season };
}

/** Point forecasts for the next `horizon` periods. */
export function forecastSmoothing(state: SmoothingState, horizon: number): Float64Array {
  const out = new Float64Array(horizon);
  const m = state.season.length;
  let damping = 0;
  let power = 1;
  for (let h = 1; h <= horizon; h++) {
    power *= state.phi;
    damping += power;
    out[h - 1] = state.level + damping * state.slope + (state.season[(h - 1) % m] as number);
  }
  return out;
}

/**
 * Penalized generalized linear models by cyclic coordinate descent (the glmnet recipe: Friedman,
 * Hastie & Tibshirani 2010), deterministic for given data.
 *
 *   gaussian:    (1/2) Σ wᵢ (yᵢ − b − xᵢ·β)²                     + λ P(β)
 *   binomial:    Σ wᵢ [log(1 + e^{sᵢ}) − yᵢ sᵢ],   sᵢ = b + xᵢ·β    + λ P(β)
 *   multinomial: Σ wᵢ [logsumexp_k sᵢₖ − sᵢ,yᵢ],   sᵢₖ = bₖ + xᵢ·βₖ + λ Σₖ P(βₖ)
 *
 * with P(β) = (1 − ρ)/2 ‖β‖² + ρ ‖β‖₁ (ρ = l1Ratio), sample weights wᵢ normalized to sum 1 and
 * intercepts never penalized. Features are centred (and, by default, scaled to unit weighted
 * standard deviation) into a column-major copy first; the penalty applies to the coefficients of
 * that copy, and the result is mapped back to the original features.
 *
 * Gaussian: one weighted least-squares problem, solved by coordinate descent with soft
 * thresholding and an active set. Binomial: proximal Newton — each outer step solves the weighted
 * least-squares (IRLS) approximation by the same coordinate descent, then backtracks until the
 * penalized objective decreases, so the objective never goes up. Multinomial: the same, one class
 * block at a time (block proximal Newton with a diagonal Hessian per class, as glmnet does).
 */
import type { Matrix } from '../types.js';

export interface Penalty {
  /** λ ≥ 0. */
  lambda: number;
  /** ρ in [0, 1]: 0 is ridge (L2), 1 is lasso (L1). */
  l1Ratio: number;
}

export interface SolverOptions {
  /** Scale features to unit standard deviation before penalizing (default true). */
  standardize: boolean;
  /** Outer iterations (Newton steps or class cycles); coordinate-descent passes are capped at 100× this. */
  maxIter: number;
  /** Stop when an iteration lowers the objective by less than tol × the null deviance (intercept-only loss). */
  tol: number;
}

/**
 * A fitted linear predictor in the solver's own coordinates: block k's score is
 * intercepts[k] + Σⱼ coefficients[k·d + j] · (xⱼ − mean[j]) / scale[j]. `originalScale` maps it to
 * plain coefficients of x.
 */
export interface LinearSolution {
  /** Row-major [blocks, features] coefficients of the centred (and scaled) features. */
  coefficients: Float64Array;
  /** One intercept per block. */
  intercepts: Float64Array;
  /** The centring of each feature (its weighted mean). */
  mean: Float64Array;
  /** The scaling of each feature (its weighted standard deviation; 1 when not standardizing or constant). */
  scale: Float64Array;
  /** Outer iterations used (gaussian: coordinate-descent passes). */
  iterations: number;
  converged: boolean;
}

/** Features centred and scaled, column-major, with the normalized sample weights. */
export interface Design {
  n: number;
  d: number;
  /** cols[j * n + i] = (x_ij − mean_j) / scale_j. */
  cols: Float64Array;
  mean: Float64Array;
  scale: Float64Array;
  /** 1 where a feature has no weighted variance: its coefficient stays 0. */
  constant: Uint8Array;
  /** Sample weights normalized to sum 1. */
  w: Float64Array;
}

export function buildDesign(X: Matrix, weights: Float64Array | undefined, standardize: boolean): Design {
  const { rows: n, cols: d, data } = X;
  const w = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += weights === undefined ? 1 : (weights[i] as number);
  for (let i = 0; i < n; i++) w[i] = (weights === undefined ? 1 : (weights[i] as number)) / total;

  const mean = new Float64Array(d);
  const scale = new Float64Array(d).fill(1);
  const constant = new Uint8Array(d);
  const cols = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += (w[i] as number) * (data[i * d + j] as number);
    let v = 0;
    for (let i = 0; i < n; i++) {
      const c = (data[i * d + j] as number) - m;
      v += (w[i] as number) * c * c;
    }
    mean[j] = m;
    const sd = Math.sqrt(v);
    // Relative to the column's magnitude, so that rounding noise is not taken for variance.
    if (!(sd > 1e-12 * Math.max(1, Math.abs(m)))) constant[j] = 1;
    else if (standardize) scale[j] = sd;
    const s = scale[j] as number;
    for (let i = 0; i < n; i++) cols[j * n + i] = ((data[i * d + j] as number) - m) / s;
  }
  return { n, d, cols, mean, scale, constant, w };
}

/** The same predictor as plain coefficients and intercepts of the original features. */
export function originalScale(solution: LinearSolution): { coefficients: Float64Array; intercepts: Float64Array } {
  const { mean, scale } = solution;
  const d = mean.length;
  const coefficients = new Float64Array(solution.coefficients.length);
  const intercepts = Float64Array.from(solution.intercepts);
  for (let k = 0; k < intercepts.length; k++) {
    for (let j = 0; j < d; j++) {
      const c = (solution.coefficients[k * d + j] as number) / (scale[j] as number);
      coefficients[k * d + j] = c;
      intercepts[k] = (intercepts[k] as number) - c * (mean[j] as number);
    }
  }
  return { coefficients, intercepts };
}

function solutionOf(
  design: Design,
  coefficients: Float64Array,
  intercepts: Float64Array,
  iterations: number,
  converged: boolean,
): LinearSolution {
  return { coefficients, intercepts, mean: design.mean, scale: design.scale, iterations, converged };
}

function penaltyValue(beta: Float64Array, p: Penalty): number {
  let l1 = 0;
  let l2 = 0;
  for (let j = 0; j < beta.length; j++) {
    const v = beta[j] as number;
    l1 += Math.abs(v);
    l2 += v * v;
  }
  return p.lambda * (((1 - p.l1Ratio) / 2) * l2 + p.l1Ratio * l1);
}

/** log(1 + e^s) without overflow. */
function softplus(s: number): number {
  return s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
}

/** Up to this many features, coordinate descent works on the Gram matrix (glmnet's covariance mode). */
const GRAM_MAX_FEATURES = 256;

/**
 * Minimizes (1/2) Σ uᵢ (zᵢ − b − xᵢ·β)² + λ P(β) by cyclic coordinate descent, starting from and
 * updating `beta` and `state.b` in place. Stops when a full pass changes no coordinate by more than
 * `threshold` in (Σ uᵢ x̃ᵢⱼ²)·Δβⱼ², its effect on the quadratic. Returns the passes made and whether
 * it converged.
 *
 * The intercept is eliminated by centring with the weights u. Up to GRAM_MAX_FEATURES features the
 * passes run on the weighted Gram matrix (O(d²) a pass after O(n·d²) once); above, on the
 * residuals (O(n·d) a pass).
 */
function weightedLeastSquaresCD(
  design: Design,
  u: Float64Array,
  z: Float64Array,
  beta: Float64Array,
  state: { b: number },
  penalty: Penalty,
  threshold: number,
  maxPasses: number,
): { passes: number; converged: boolean } {
  const { n, d, cols, constant } = design;
  let sumU = 0;
  for (let i = 0; i < n; i++) sumU += u[i] as number;
  if (!(sumU > 0)) return { passes: 0, converged: true };
  let zBar = 0;
  for (let i = 0; i < n; i++) zBar += (u[i] as number) * (z[i] as number);
  zBar /= sumU;
  const xBar = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    const off = j * n;
    for (let i = 0; i < n; i++) m += (u[i] as number) * (cols[off + i] as number);
    xBar[j] = m / sumU;
  }
  const result =
    d <= GRAM_MAX_FEATURES
      ? gramCD(design, u, z, zBar, xBar, beta, penalty, threshold, maxPasses)
      : residualCD(design, u, z, zBar, xBar, beta, penalty, threshold, maxPasses);
  let b = zBar;
  for (let j = 0; j < d; j++) if (!constant[j]) b -= (xBar[j] as number) * (beta[j] as number);
  state.b = b;
  return result;
}

/** One coordinate's new value: soft-thresholded Newton step for (1/2)c·β² − (g + c·old)·β + penalty. */
function coordinateUpdate(g: number, c: number, old: number, l1: number, l2: number): number {
  const t = g + c * old;
  const shrunk = t > l1 ? t - l1 : t < -l1 ? t + l1 : 0;
  return shrunk / (c + l2);
}

/**
 * Runs passes over all coordinates, then over the non-zero ones until they settle, and again,
 * until a full pass is below the threshold. `update(j)` returns c_j·Δβ_j².
 */
function cyclePasses(
  d: number,
  beta: Float64Array,
  update: (j: number) => number,
  threshold: number,
  maxPasses: number,
): { passes: number; converged: boolean } {
  let passes = 0;
  const active: number[] = [];
  while (passes < maxPasses) {
    let change = 0;
    for (let j = 0; j < d; j++) {
      const c = update(j);
      if (c > change) change = c;
    }
    passes++;
    if (change < threshold) return { passes, converged: true };
    active.length = 0;
    for (let j = 0; j < d; j++) if (beta[j] !== 0) active.push(j);
    while (passes < maxPasses) {
      let activeChange = 0;
      for (const j of active) {
        const c = update(j);
        if (c > activeChange) activeChange = c;
      }
      passes++;
      if (activeChange < threshold) break;
    }
  }
  return { passes, converged: false };
}

function gramCD(
  design: Design,
  u: Float64Array,
  z: Float64Array,
  zBar: number,
  xBar: Float64Array,
  beta: Float64Array,
  penalty: Penalty,
  threshold: number,
  maxPasses: number,
): { passes: number; converged: boolean } {
  const { n, d, cols, constant } = design;
  const l1 = penalty.lambda * penalty.l1Ratio;
  const l2 = penalty.lambda * (1 - penalty.l1Ratio);
  // G[j,k] = Σ uᵢ (xᵢⱼ − x̄ⱼ)(xᵢₖ − x̄ₖ) = Σ aᵢ xᵢₖ with aᵢ = uᵢ (xᵢⱼ − x̄ⱼ), since Σ aᵢ = 0.
  const G = new Float64Array(d * d);
  const grad = new Float64Array(d);
  const a = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    if (constant[j]) continue;
    const offJ = j * n;
    const mj = xBar[j] as number;
    let q = 0;
    for (let i = 0; i < n; i++) {
      const ai = (u[i] as number) * ((cols[offJ + i] as number) - mj);
      a[i] = ai;
      q += ai * ((z[i] as number) - zBar);
    }
    grad[j] = q;
    for (let k = j; k < d; k++) {
      if (constant[k]) continue;
      const offK = k * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += (a[i] as number) * (cols[offK + i] as number);
      G[j * d + k] = s;
      G[k * d + j] = s;
    }
  }
  // grad = q − G·β for a warm start.
  for (let k = 0; k < d; k++) {
    const bk = beta[k] as number;
    if (bk === 0) continue;
    for (let j = 0; j < d; j++) grad[j] = (grad[j] as number) - (G[j * d + k] as number) * bk;
  }
  return cyclePasses(
    d,
    beta,
    (j) => {
      const cj = G[j * d + j] as number;
      if (constant[j] || !(cj > 0)) return 0;
      const old = beta[j] as number;
      const delta = coordinateUpdate(grad[j] as number, cj, old, l1, l2) - old;
      if (delta === 0) return 0;
      beta[j] = old + delta;
      const off = j * d;
      for (let k = 0; k < d; k++) grad[k] = (grad[k] as number) - (G[off + k] as number) * delta;
      return cj * delta * delta;
    },
    threshold,
    maxPasses,
  );
}

function residualCD(
  design: Design,
  u: Float64Array,
  z: Float64Array,
  zBar: number,
  xBar: Float64Array,
  beta: Float64Array,
  penalty: Penalty,
  threshold: number,
  maxPasses: number,
): { passes: number; converged: boolean } {
  const { n, d, cols, constant } = design;
  const l1 = penalty.lambda * penalty.l1Ratio;
  const l2 = penalty.lambda * (1 - penalty.l1Ratio);
  // Weighted residuals of the centred problem: ur_i = u_i · (z̃ᵢ − x̃ᵢ·β).
  const ur = new Float64Array(n);
  for (let i = 0; i < n; i++) ur[i] = (z[i] as number) - zBar;
  const c = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    if (constant[j]) continue;
    const off = j * n;
    const mj = xBar[j] as number;
    const bj = beta[j] as number;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const x = (cols[off + i] as number) - mj;
      s += (u[i] as number) * x * x;
      if (bj !== 0) ur[i] = (ur[i] as number) - bj * x;
    }
    c[j] = s;
  }
  for (let i = 0; i < n; i++) ur[i] = (ur[i] as number) * (u[i] as number);
  return cyclePasses(
    d,
    beta,
    (j) => {
      const cj = c[j] as number;
      if (constant[j] || !(cj > 0)) return 0;
      const off = j * n;
      const mj = xBar[j] as number;
      let g = 0;
      for (let i = 0; i < n; i++) g += (ur[i] as number) * ((cols[off + i] as number) - mj);
      const old = beta[j] as number;
      const delta = coordinateUpdate(g, cj, old, l1, l2) - old;
      if (delta === 0) return 0;
      beta[j] = old + delta;
      for (let i = 0; i < n; i++) {
        ur[i] = (ur[i] as number) - delta * (u[i] as number) * ((cols[off + i] as number) - mj);
      }
      return cj * delta * delta;
    },
    threshold,
    maxPasses,
  );
}

/** Penalized least squares. */
export function fitGaussian(
  X: Matrix,
  y: Float64Array,
  weights: Float64Array | undefined,
  penalty: Penalty,
  options: SolverOptions,
): LinearSolution {
  const design = buildDesign(X, weights, options.standardize);
  const beta = new Float64Array(design.d);
  let yBar = 0;
  for (let i = 0; i < design.n; i++) yBar += (design.w[i] as number) * (y[i] as number);
  let nullDeviance = 0;
  for (let i = 0; i < design.n; i++) nullDeviance += (design.w[i] as number) * ((y[i] as number) - yBar) ** 2;
  const state = { b: yBar };
  const { passes, converged } = weightedLeastSquaresCD(
    design,
    design.w,
    y,
    beta,
    state,
    penalty,
    options.tol * Math.max(nullDeviance, Number.MIN_VALUE),
    options.maxIter * 100,
  );
  return solutionOf(design, beta, Float64Array.of(state.b), passes, converged);
}

/** The smallest curvature a row may contribute, so that confident rows keep the step finite. */
const MIN_HESSIAN = 1e-5;
const MAX_HALVINGS = 30;
const INNER_PRECISION = 1e-2;

/** Penalized logistic regression; `y` holds 0 or 1. */
export function fitBinomial(
  X: Matrix,
  y: Uint8Array,
  weights: Float64Array | undefined,
  penalty: Penalty,
  options: SolverOptions,
): LinearSolution {
  const design = buildDesign(X, weights, options.standardize);
  const { n, d, cols, w } = design;
  let beta: Float64Array = new Float64Array(d);
  let pos = 0;
  for (let i = 0; i < n; i++) pos += (w[i] as number) * (y[i] as number);
  pos = Math.min(Math.max(pos, 1e-10), 1 - 1e-10);
  let b = Math.log(pos / (1 - pos));

  const scores = new Float64Array(n);
  const computeScores = (bb: Float64Array, b0: number, out: Float64Array): void => {
    out.fill(b0);
    for (let j = 0; j < d; j++) {
      const v = bb[j] as number;
      if (v === 0) continue;
      const off = j * n;
      for (let i = 0; i < n; i++) out[i] = (out[i] as number) + v * (cols[off + i] as number);
    }
  };
  const objective = (s: Float64Array, bb: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++)
      loss += (w[i] as number) * (softplus(s[i] as number) - (y[i] as number) * (s[i] as number));
    return loss + penaltyValue(bb, penalty);
  };

  computeScores(beta, b, scores);
  let f = objective(scores, beta);
  // The intercept-only loss is the null deviance: thresholds are relative to it. Each Newton step's
  // least squares is solved INNER_PRECISION times tighter than the outer stopping rule.
  const threshold = options.tol * f;
  const u = new Float64Array(n);
  const z = new Float64Array(n);
  const trial = new Float64Array(n);
  let iterations = 0;
  let converged = false;
  while (iterations < options.maxIter && !converged) {
    iterations++;
    for (let i = 0; i < n; i++) {
      const s = scores[i] as number;
      const p = 1 / (1 + Math.exp(-s));
      const h = Math.max(p * (1 - p), MIN_HESSIAN);
      u[i] = (w[i] as number) * h;
      z[i] = s + ((y[i] as number) - p) / h;
    }
    const next = Float64Array.from(beta);
    const state = { b };
    weightedLeastSquaresCD(design, u, z, next, state, penalty, threshold * INNER_PRECISION, 100 * options.maxIter);
    const step = lineSearch(beta, b, next, state.b, f, (bb, b0) => {
      computeScores(bb, b0, trial);
      return objective(trial, bb);
    });
    beta = step.beta;
    b = step.b;
    computeScores(beta, b, scores);
    const decrease = f - step.f;
    f = step.f;
    converged = decrease <= threshold;
  }
  return solutionOf(design, beta, Float64Array.of(b), iterations, converged);
}

/** Penalized multinomial (softmax) regression; `y` holds class indices in [0, classes). */
export function fitMultinomial(
  X: Matrix,
  y: Uint32Array,
  classes: number,
  weights: Float64Array | undefined,
  penalty: Penalty,
  options: SolverOptions,
): LinearSolution {
  const design = buildDesign(X, weights, options.standardize);
  const { n, d, cols, w } = design;
  const K = classes;
  const betas: Float64Array[] = Array.from({ length: K }, () => new Float64Array(d));
  const b = new Float64Array(K);
  const prior = new Float64Array(K);
  for (let i = 0; i < n; i++) prior[y[i] as number] = (prior[y[i] as number] as number) + (w[i] as number);
  for (let k = 0; k < K; k++) b[k] = Math.log(Math.max(prior[k] as number, 1e-10));

  // scores[i * K + k] = b_k + x_i · β_k
  const scores = new Float64Array(n * K);
  const columnScores = (bb: Float64Array, b0: number, out: Float64Array): void => {
    out.fill(b0);
    for (let j = 0; j < d; j++) {
      const v = bb[j] as number;
      if (v === 0) continue;
      const off = j * n;
      for (let i = 0; i < n; i++) out[i] = (out[i] as number) + v * (cols[off + i] as number);
    }
  };
  const column = new Float64Array(n);
  for (let k = 0; k < K; k++) {
    columnScores(betas[k] as Float64Array, b[k] as number, column);
    for (let i = 0; i < n; i++) scores[i * K + k] = column[i] as number;
  }
  /** The penalized objective with class k's scores replaced by `sk`. */
  const objective = (k: number, sk: Float64Array, bk: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let m = -Infinity;
      for (let c = 0; c < K; c++) m = Math.max(m, c === k ? (sk[i] as number) : (scores[i * K + c] as number));
      let sum = 0;
      for (let c = 0; c < K; c++) sum += Math.exp((c === k ? (sk[i] as number) : (scores[i * K + c] as number)) - m);
      const yi = y[i] as number;
      const sy = yi === k ? (sk[i] as number) : (scores[i * K + yi] as number);
      loss += (w[i] as number) * (m + Math.log(sum) - sy);
    }
    let pen = 0;
    for (let c = 0; c < K; c++) pen += penaltyValue(c === k ? bk : (betas[c] as Float64Array), penalty);
    return loss + pen;
  };

  const u = new Float64Array(n);
  const z = new Float64Array(n);
  const own = new Float64Array(n);
  const trial = new Float64Array(n);
  let f = objective(0, ownScores(scores, n, K, 0, own), betas[0] as Float64Array);
  const threshold = options.tol * f;
  let iterations = 0;
  let converged = false;
  while (iterations < options.maxIter && !converged) {
    iterations++;
    const fStart = f;
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) {
        let m = -Infinity;
        for (let c = 0; c < K; c++) m = Math.max(m, scores[i * K + c] as number);
        let sum = 0;
        for (let c = 0; c < K; c++) sum += Math.exp((scores[i * K + c] as number) - m);
        const s = scores[i * K + k] as number;
        const p = Math.exp(s - m) / sum;
        const h = Math.max(p * (1 - p), MIN_HESSIAN);
        u[i] = (w[i] as number) * h;
        z[i] = s + ((y[i] === k ? 1 : 0) - p) / h;
      }
      const current = betas[k] as Float64Array;
      const next = Float64Array.from(current);
      const state = { b: b[k] as number };
      weightedLeastSquaresCD(design, u, z, next, state, penalty, threshold * INNER_PRECISION, 100 * options.maxIter);
      const step = lineSearch(current, b[k] as number, next, state.b, f, (bb, b0) => {
        columnScores(bb, b0, trial);
        return objective(k, trial, bb);
      });
      betas[k] = step.beta;
      b[k] = step.b;
      f = step.f;
      columnScores(step.beta, step.b, column);
      for (let i = 0; i < n; i++) scores[i * K + k] = column[i] as number;
    }
    // Adding one vector to every βₖ leaves the probabilities unchanged and moves only the penalty,
    // a nearly flat valley that class-by-class steps crawl along: jump to its lowest point.
    if (centreCoefficients(betas, d, penalty)) {
      for (let k = 0; k < K; k++) {
        columnScores(betas[k] as Float64Array, b[k] as number, column);
        for (let i = 0; i < n; i++) scores[i * K + k] = column[i] as number;
      }
      f = objective(0, ownScores(scores, n, K, 0, own), betas[0] as Float64Array);
    }
    converged = fStart - f <= threshold;
  }

  // Softmax is unchanged by adding one constant to every intercept: report them centred.
  let bMean = 0;
  for (let k = 0; k < K; k++) bMean += (b[k] as number) / K;
  const coefficients = new Float64Array(K * d);
  betas.forEach((beta, k) => coefficients.set(beta, k * d));
  return solutionOf(
    design,
    coefficients,
    b.map((v) => v - bMean),
    iterations,
    converged,
  );
}

function ownScores(scores: Float64Array, n: number, K: number, k: number, out: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) out[i] = scores[i * K + k] as number;
  return out;
}

/**
 * Backtracks from the proposed (β, b) towards the current one, halving the step until the
 * penalized objective does not increase; with no such step, stays put.
 */
function lineSearch(
  beta: Float64Array,
  b: number,
  proposed: Float64Array,
  proposedB: number,
  f: number,
  evaluate: (beta: Float64Array, b: number) => number,
): { beta: Float64Array; b: number; f: number } {
  let t = 1;
  const candidate = new Float64Array(beta.length);
  for (let halvings = 0; halvings <= MAX_HALVINGS; halvings++) {
    for (let j = 0; j < beta.length; j++) {
      candidate[j] = (beta[j] as number) + t * ((proposed[j] as number) - (beta[j] as number));
    }
    const cb = b + t * (proposedB - b);
    const fc = evaluate(candidate, cb);
    if (fc <= f + 1e-15 * Math.abs(f)) return { beta: candidate, b: cb, f: fc };
    t /= 2;
  }
  return { beta: Float64Array.from(beta), b, f };
}

/**
 * Replaces each feature's coefficients βₖⱼ (k over classes) by βₖⱼ − cⱼ, with cⱼ minimizing
 * Σₖ (1 − ρ)/2 (βₖⱼ − c)² + ρ |βₖⱼ − c| (the mean for ridge, a median for lasso), found by
 * bisection on its monotone derivative. Returns whether anything moved.
 */
function centreCoefficients(betas: Float64Array[], d: number, penalty: Penalty): boolean {
  if (penalty.lambda === 0) return false;
  const rho = penalty.l1Ratio;
  let movedAny = false;
  for (let j = 0; j < d; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const beta of betas) {
      lo = Math.min(lo, beta[j] as number);
      hi = Math.max(hi, beta[j] as number);
    }
    if (lo === hi) continue;
    const slope = (c: number): number => {
      let g = 0;
      for (const beta of betas) {
        const r = (beta[j] as number) - c;
        g -= (1 - rho) * r + rho * Math.sign(r);
      }
      return g;
    };
    for (let it = 0; it < 100 && hi - lo > 1e-15 * Math.max(1, Math.abs(lo), Math.abs(hi)); it++) {
      const mid = (lo + hi) / 2;
      if (slope(mid) < 0) lo = mid;
      else hi = mid;
    }
    // With an L1 part the best shift is often exactly one of the βₖⱼ (a kink): prefer it, so that
    // coefficient becomes exactly 0 rather than a rounding residue.
    let c = (lo + hi) / 2;
    if (rho > 0) {
      const cost = (shift: number): number => {
        let h = 0;
        for (const beta of betas) {
          const r = (beta[j] as number) - shift;
          h += ((1 - rho) / 2) * r * r + rho * Math.abs(r);
        }
        return h;
      };
      let best = cost(c);
      for (const beta of betas) {
        const kink = beta[j] as number;
        const h = cost(kink);
        if (h <= best + 1e-12 * Math.max(best, 1e-300)) {
          best = Math.min(best, h);
          c = kink;
        }
      }
    }
    if (c === 0) continue;
    for (const beta of betas) beta[j] = (beta[j] as number) - c;
    movedAny = true;
  }
  return movedAny;
}

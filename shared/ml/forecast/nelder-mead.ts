/**
 * Nelder-Mead simplex minimization with the standard coefficients (reflection 1, expansion 2,
 * contraction 0.5, shrink 0.5). Deterministic: the same start gives the same path, and ties in
 * the simplex ordering keep vertex order.
 */

export interface NelderMeadOptions {
  /** Initial simplex edge along each axis (default 0.5). */
  step?: number;
  maxIterations?: number;
  /** Stop when the spread of function values in the simplex falls below this (default 1e-10, relative). */
  tolerance?: number;
}

export interface NelderMeadResult {
  x: Float64Array;
  value: number;
  iterations: number;
}

export function nelderMead(
  f: (x: Float64Array) => number,
  start: ArrayLike<number>,
  options: NelderMeadOptions = {},
): NelderMeadResult {
  const n = start.length;
  const step = options.step ?? 0.5;
  const maxIterations = options.maxIterations ?? 200 * n;
  const tolerance = options.tolerance ?? 1e-10;
  const evaluate = (x: Float64Array): number => {
    const v = f(x);
    return Number.isNaN(v) ? Number.POSITIVE_INFINITY : v;
  };
  const points: Float64Array[] = [Float64Array.from(start)];
  for (let i = 0; i < n; i++) {
    const p = Float64Array.from(start);
    p[i] = (p[i] as number) + step;
    points.push(p);
  }
  let values = points.map(evaluate);
  const combine = (a: Float64Array, b: Float64Array, t: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (a[i] as number) + t * ((b[i] as number) - (a[i] as number));
    return out;
  };
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const order = points.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
    const sortedPoints = order.map((i) => points[i] as Float64Array);
    values = order.map((i) => values[i] as number);
    points.splice(0, points.length, ...sortedPoints);
    const best = values[0] as number;
    const worst = values[n] as number;
    if (Math.abs(worst - best) <= tolerance * (Math.abs(best) + tolerance)) break;

    const centroid = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const p = points[j] as Float64Array;
      for (let i = 0; i < n; i++) centroid[i] = (centroid[i] as number) + (p[i] as number) / n;
    }
    const worstPoint = points[n] as Float64Array;
    const reflected = combine(centroid, worstPoint, -1);
    const fr = evaluate(reflected);
    if (fr < best) {
      const expanded = combine(centroid, worstPoint, -2);
      const fe = evaluate(expanded);
      if (fe < fr) {
        points[n] = expanded;
        values[n] = fe;
      } else {
        points[n] = reflected;
        values[n] = fr;
      }
      continue;
    }
    if (fr < (values[n - 1] as number)) {
      points[n] = reflected;
      values[n] = fr;
      continue;
    }
    // Contract towards the better of the worst point and its reflection.
    const outside = fr < worst;
    const contracted = combine(centroid, outside ? reflected : worstPoint, 0.5);
    const fc = evaluate(contracted);
    if (fc < (outside ? fr : worst)) {
      points[n] = contracted;
      values[n] = fc;
      continue;
    }
    const bestPoint = points[0] as Float64Array;
    for (let j = 1; j <= n; j++) {
      points[j] = combine(bestPoint, points[j] as Float64Array, 0.5);
      values[j] = evaluate(points[j] as Float64Array);
    }
  }
  let bestIndex = 0;
  for (let j = 1; j <= n; j++) if ((values[j] as number) < (values[bestIndex] as number)) bestIndex = j;
  return { x: points[bestIndex] as Float64Array, value: values[bestIndex] as number, iterations };
}

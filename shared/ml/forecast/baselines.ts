/**
 * Azure's baseline forecasters on one regular, gap-free series: Naive (the last value),
 * SeasonalNaive (the value one season back), Average (the mean) and SeasonalAverage (the mean of
 * the same season position).
 */

function checkHorizon(horizon: number): void {
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new RangeError(`horizon must be a positive integer; got ${horizon}`);
}

function checkValues(values: ArrayLike<number>): void {
  if (values.length === 0) throw new RangeError('values is empty');
}

export function naiveForecast(values: ArrayLike<number>, horizon: number): Float64Array {
  checkHorizon(horizon);
  checkValues(values);
  return new Float64Array(horizon).fill(values[values.length - 1] as number);
}

/** y(T + h) = y(T + h - m k), k the smallest whole number of seasons reaching back into the data. */
export function seasonalNaiveForecast(values: ArrayLike<number>, seasonLength: number, horizon: number): Float64Array {
  checkHorizon(horizon);
  checkValues(values);
  const n = values.length;
  const m = Math.min(Math.max(1, seasonLength), n);
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) out[h - 1] = values[n - m + ((h - 1) % m)] as number;
  return out;
}

export function averageForecast(values: ArrayLike<number>, horizon: number): Float64Array {
  checkHorizon(horizon);
  checkValues(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return new Float64Array(horizon).fill(sum / values.length);
}

export function seasonalAverageForecast(
  values: ArrayLike<number>,
  seasonLength: number,
  horizon: number,
): Float64Array {
  checkHorizon(horizon);
  checkValues(values);
  const n = values.length;
  const m = Math.max(1, seasonLength);
  const sums = new Float64Array(m);
  const counts = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    sums[i % m] = (sums[i % m] as number) + (values[i] as number);
    counts[i % m] = (counts[i % m] as number) + 1;
  }
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) {
    const slot = (n + h - 1) % m;
    // A season position never observed (a series shorter than one season) falls back to the last value.
    out[h - 1] =
      (counts[slot] as number) > 0 ? (sums[slot] as number) / (counts[slot] as number) : (values[n - 1] as number);
  }
  return out;
}

/**
 * Per-deployment counters of the data plane: requests, answers by status class, a latency
 * histogram on fixed log-scale buckets (powers of two from 1/8 ms to 16 s, and one above), and
 * mirrored requests. Recording is a few integer increments; `snapshot()` is what
 * `online-endpoint show` prints.
 */

/** Upper bounds of the buckets, in ms: 0.125, 0.25, ..., 16384; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze(Array.from({ length: 18 }, (_, i) => 2 ** (i - 3)));

export interface DeploymentStatsSnapshot {
  /** When counting started (epoch ms): the first load or request of the deployment in this process. */
  since: number;
  requests: number;
  /** Answers by status class: '2xx', '4xx', '5xx' (and '1xx'/'3xx' if a script answers them). */
  responses: Record<string, number>;
  /** 5xx answers and throws: the deployment's errors (4xx are the caller's). */
  errors: number;
  latency: {
    /** Upper bound of each bucket in ms (null: above the last bound) and its count. */
    buckets: { le: number | null; count: number }[];
    meanMs: number;
    /** Upper bounds of the buckets holding the percentile. */
    p50Ms: number | null;
    p90Ms: number | null;
    p99Ms: number | null;
  };
  mirrored: { requests: number; errors: number };
}

export class DeploymentStats {
  private requests = 0;
  private readonly byClass = new Float64Array(6);
  private readonly histogram = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  private totalMs = 0;
  private mirroredRequests = 0;
  private mirroredErrors = 0;

  constructor(private readonly since: number = Date.now()) {}

  /** One answered request: its status and how long it took, in ms. */
  record(status: number, ms: number): void {
    this.requests++;
    const cls = (status / 100) | 0;
    const c = cls >= 1 && cls <= 5 ? cls : 0;
    this.byClass[c] = (this.byClass[c] as number) + 1;
    this.totalMs += ms;
    const b = bucketOf(ms);
    this.histogram[b] = (this.histogram[b] as number) + 1;
  }

  /** One mirrored copy and whether it failed (a 5xx, a throw, or a 503 of a saturated mirror). */
  recordMirror(failed: boolean): void {
    this.mirroredRequests++;
    if (failed) this.mirroredErrors++;
  }

  snapshot(): DeploymentStatsSnapshot {
    const responses: Record<string, number> = {};
    for (let c = 1; c <= 5; c++) {
      const n = this.byClass[c] as number;
      if (n > 0) responses[`${c}xx`] = n;
    }
    const buckets = Array.from(this.histogram, (count, i) => ({ le: LATENCY_BUCKETS_MS[i] ?? null, count }));
    return {
      since: this.since,
      requests: this.requests,
      responses,
      errors: this.byClass[5] as number,
      latency: {
        buckets,
        meanMs: this.requests === 0 ? 0 : this.totalMs / this.requests,
        p50Ms: this.percentile(0.5),
        p90Ms: this.percentile(0.9),
        p99Ms: this.percentile(0.99),
      },
      mirrored: { requests: this.mirroredRequests, errors: this.mirroredErrors },
    };
  }

  private percentile(q: number): number | null {
    return percentileOf(this.histogram, this.requests, q);
  }
}

/** The upper bound of the bucket holding quantile q of `total` answers counted in `histogram`. */
export function percentileOf(histogram: ArrayLike<number>, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] as number;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? null;
  }
  return null;
}

/** The bucket of a latency: the first whose bound is ≥ ms. */
export function bucketOf(ms: number): number {
  if (!(ms > 0.125)) return 0;
  const i = Math.ceil(Math.log2(ms)) + 3;
  return i < LATENCY_BUCKETS_MS.length ? i : LATENCY_BUCKETS_MS.length;
}

/**
 * Serving peers: the other processes of this host that serve the same scoring routes from the same
 * store. The local host runs scoring replicas (local/replicas.ts) so that scoring uses every core;
 * each replica has its own scorers, routing tables and endpoint cache. Two things then cross
 * processes, and this is their protocol:
 *
 * - a write of an endpoint document must reach every replica before the write is acknowledged, so
 *   that a traffic change or `regenerate-keys` applies to the very next request whichever process
 *   serves it (`changed`, awaited by the endpoint service after each write);
 * - `online-endpoint show` counts every process's requests (`stats`, merged with mergeSnapshots).
 *
 * The host offers its peers on `globalThis` under `Symbol.for(SERVING_PEERS_KEY)` (as it offers
 * the direct lane), so the app needs nothing from the host but this shape. Without a host that
 * offers peers (Azure, tests, a host with no replicas) both are no-ops.
 */
import { LATENCY_BUCKETS_MS, percentileOf, type DeploymentStatsSnapshot } from './stats.js';

export const SERVING_PEERS_KEY = 'tessera.local-host.serving-peers';

export interface ServingPeers {
  /** Tells every peer that endpoint documents changed; resolves once each has dropped what it cached. */
  changed(): Promise<void>;
  /** Each peer's counters of one deployment (peers that never served it leave it out). */
  stats(endpoint: string, deployment: string): Promise<DeploymentStatsSnapshot[]>;
}

/** Offers (or, with undefined, withdraws) this process's serving peers. */
export function offerServingPeers(peers: ServingPeers | undefined): void {
  const g = globalThis as Record<symbol, unknown>;
  if (peers === undefined) delete g[Symbol.for(SERVING_PEERS_KEY)];
  else g[Symbol.for(SERVING_PEERS_KEY)] = peers;
}

/** The serving peers the host offered, if any. */
export function servingPeers(): ServingPeers | undefined {
  const peers = (globalThis as Record<symbol, unknown>)[Symbol.for(SERVING_PEERS_KEY)];
  return typeof peers === 'object' && peers !== null ? (peers as ServingPeers) : undefined;
}

/**
 * The counters of several processes as one: counts and histograms add up, `since` is the earliest,
 * the mean is weighted by requests and the percentiles are read again from the summed histogram.
 */
export function mergeSnapshots(snapshots: readonly DeploymentStatsSnapshot[]): DeploymentStatsSnapshot | undefined {
  const [first, ...rest] = snapshots;
  if (first === undefined) return undefined;
  if (rest.length === 0) return first;
  const responses: Record<string, number> = {};
  const counts = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  let since = first.since;
  let requests = 0;
  let errors = 0;
  let totalMs = 0;
  let mirroredRequests = 0;
  let mirroredErrors = 0;
  for (const s of snapshots) {
    since = Math.min(since, s.since);
    requests += s.requests;
    errors += s.errors;
    totalMs += s.latency.meanMs * s.requests;
    mirroredRequests += s.mirrored.requests;
    mirroredErrors += s.mirrored.errors;
    for (const [cls, n] of Object.entries(s.responses)) responses[cls] = (responses[cls] ?? 0) + n;
    s.latency.buckets.forEach((b, i) => {
      if (i < counts.length) counts[i] = (counts[i] as number) + b.count;
    });
  }
  return {
    since,
    requests,
    responses,
    errors,
    latency: {
      buckets: Array.from(counts, (count, i) => ({ le: LATENCY_BUCKETS_MS[i] ?? null, count })),
      meanMs: requests === 0 ? 0 : totalMs / requests,
      p50Ms: percentileOf(counts, requests, 0.5),
      p90Ms: percentileOf(counts, requests, 0.9),
      p99Ms: percentileOf(counts, requests, 0.99),
    },
    mirrored: { requests: mirroredRequests, errors: mirroredErrors },
  };
}

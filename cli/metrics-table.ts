import type { DeploymentMetrics, EndpointMetrics } from '../shared/contracts/endpoint.js';
import { table } from './output.js';

/**
 * The per-deployment counters of `online-endpoint show` and `online-deployment show` as text: one
 * row per deployment (requests, answers by class, percentiles), then the latency histogram's
 * non-empty buckets with a column per deployment, then a line saying whose counts they are.
 */

const ms = (v: number | null): string => (v === null ? '-' : `≤${v}`);

export function metricsTable(deployments: Readonly<Record<string, DeploymentMetrics>>, note: string): string {
  const names = Object.keys(deployments).sort();
  const rows = names.map((name) => {
    const m = deployments[name] as DeploymentMetrics;
    return {
      deployment: name,
      generation: m.loaded_generation ?? '-',
      requests: m.requests,
      '2xx': m.responses['2xx'] ?? 0,
      '4xx': m.responses['4xx'] ?? 0,
      '5xx': m.responses['5xx'] ?? 0,
      p50_ms: ms(m.latency_ms.p50),
      p90_ms: ms(m.latency_ms.p90),
      p99_ms: ms(m.latency_ms.p99),
      mean_ms: m.latency_ms.mean.toFixed(2),
      mirrored: m.mirrored.requests === 0 ? '-' : `${m.mirrored.requests} (${m.mirrored.errors} failed)`,
      since: m.since,
    };
  });
  let text = table(rows, [
    'deployment',
    'generation',
    'requests',
    '2xx',
    '4xx',
    '5xx',
    'p50_ms',
    'p90_ms',
    'p99_ms',
    'mean_ms',
    'mirrored',
    'since',
  ]);
  const first = names[0] === undefined ? undefined : deployments[names[0]];
  const buckets = first?.latency_ms.histogram ?? [];
  const histogram = buckets
    .map((bucket, i) => {
      const row: Record<string, unknown> = { latency_ms: bucket.le_ms === null ? 'more' : `≤${bucket.le_ms}` };
      let total = 0;
      for (const name of names) {
        const count = deployments[name]?.latency_ms.histogram[i]?.count ?? 0;
        row[name] = count;
        total += count;
      }
      return total > 0 ? row : undefined;
    })
    .filter((r) => r !== undefined);
  if (histogram.length > 0) text += `\n${table(histogram, ['latency_ms', ...names])}`;
  return `${text}\n${note}\n`;
}

/** `online-endpoint show -o table`'s counters. */
export function endpointMetricsTable(metrics: EndpointMetrics): string {
  return metricsTable(metrics.deployments, `Counts: ${metrics.note} (host started ${metrics.host_started_at}).`);
}

// What the data plane shows of itself: the per-deployment counters as GET of an endpoint gives them
// (shape checked against the contract's schema), their text table, and the data collector as the
// registry wires it (the deployment's own sink, the correlation id answered in x-request-id).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointMetricsTable, metricsTable } from '../../cli/metrics-table.js';
import { deploymentMetricsSchema, endpointMetricsSchema } from '../../shared/contracts/endpoint.js';
import type { ModelRuntime } from '../../shared/ports/model-runtime.js';
import { deploymentMetricsSource, toDeploymentMetrics } from '../../shared/serving/from-contracts.js';
import { mergeSnapshots, offerServingPeers } from '../../shared/serving/peers.js';
import { isNewerRevision, ScorerRegistry } from '../../shared/serving/registry.js';
import { EndpointRouter, REQUEST_ID_HEADER } from '../../shared/serving/router.js';
import { jsonResponse, type Scorer } from '../../shared/serving/scorer.js';
import { DeploymentStats, LATENCY_BUCKETS_MS } from '../../shared/serving/stats.js';
import type { ServingDeployment } from '../../shared/serving/types.js';

const STARTED = Date.parse('2026-03-01T10:00:00Z');

function deployment(name: string, extra: Partial<ServingDeployment> = {}): ServingDeployment {
  return {
    name,
    endpoint_name: 'e',
    workspace: 'team-a',
    revision: 3,
    kind: 'onnx',
    instance_count: 1,
    request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 8, max_queue_wait_ms: 500 },
    environment_variables: {},
    ...extra,
  };
}

/** A scorer that answers `[n]` for a body `{"n": n}`, and 500 for n < 0. */
const echoScorer = async (): Promise<Scorer> => ({
  async score(req) {
    const n = (JSON.parse(req.body.toString()) as { n: number }).n;
    return n < 0 ? { status: 500, body: 'negative', contentType: 'text/plain' } : jsonResponse(JSON.stringify([n]));
  },
  async close() {},
});

describe('toDeploymentMetrics', () => {
  test('a deployment this host never served: zeros since the host started, every bucket present', () => {
    const m = toDeploymentMetrics(undefined, undefined, STARTED);
    deploymentMetricsSchema.parse(m);
    assert.equal(m.since, '2026-03-01T10:00:00.000Z');
    assert.equal(m.requests, 0);
    assert.equal(m.loaded_generation, undefined);
    assert.deepEqual(m.responses, {});
    assert.deepEqual([m.latency_ms.p50, m.latency_ms.p90, m.latency_ms.p99], [null, null, null]);
    assert.equal(m.latency_ms.histogram.length, LATENCY_BUCKETS_MS.length + 1);
    assert.equal(m.latency_ms.histogram.at(-1)?.le_ms, null);
  });

  test('counters, percentiles as bucket bounds, the histogram and the loaded generation', () => {
    const stats = new DeploymentStats(STARTED + 60_000);
    for (let i = 0; i < 80; i++) stats.record(200, 1.5);
    for (let i = 0; i < 15; i++) stats.record(400, 6);
    for (let i = 0; i < 5; i++) stats.record(503, 300);
    stats.recordMirror(false);
    const m = toDeploymentMetrics(stats.snapshot(), '7', STARTED);
    deploymentMetricsSchema.parse(m);
    assert.equal(m.since, '2026-03-01T10:01:00.000Z');
    assert.equal(m.loaded_generation, 7);
    assert.equal(m.requests, 100);
    assert.equal(m.errors, 5);
    assert.deepEqual(m.responses, { '2xx': 80, '4xx': 15, '5xx': 5 });
    assert.deepEqual([m.latency_ms.p50, m.latency_ms.p90, m.latency_ms.p99], [2, 8, 512]);
    assert.ok(Math.abs(m.latency_ms.mean - (80 * 1.5 + 15 * 6 + 5 * 300) / 100) < 1e-9);
    assert.deepEqual(
      m.latency_ms.histogram.filter((b) => b.count > 0),
      [
        { le_ms: 2, count: 80 },
        { le_ms: 8, count: 15 },
        { le_ms: 512, count: 5 },
      ],
    );
    assert.deepEqual(m.mirrored, { requests: 1, errors: 0 });
    assert.equal(toDeploymentMetrics(undefined, 'not-a-number', STARTED).loaded_generation, undefined);
  });
});

describe('deploymentMetricsSource', () => {
  test('counts what the router answered, per deployment, with the generation loaded here', async () => {
    const registry = new ScorerRegistry({
      modelRuntime: {} as ModelRuntime,
      fetchFiles: async (uri) => uri,
      createScorer: echoScorer,
    });
    const deployments = [deployment('blue'), deployment('green')];
    const router = new EndpointRouter({
      directory: {
        lookup: () => ({
          endpoint: { name: 'e', traffic: { blue: 100 }, mirror_traffic: {}, revision: 1 },
          deployments,
        }),
        verifyCaller: () => undefined,
      },
      registry,
    });
    const score = (n: number, headers: Record<string, string> = {}) =>
      router.score('e', { body: Buffer.from(JSON.stringify({ n })), headers });
    for (let i = 0; i < 6; i++) assert.equal((await score(i)).status, 200);
    assert.equal((await score(-1)).status, 500);
    assert.equal((await score(1, { 'azureml-model-deployment': 'green' })).status, 200);
    const source = deploymentMetricsSource(registry);
    assert.equal(source.startedAt, registry.startedAt);
    const blue = await source.deployment('e', 'blue');
    const green = await source.deployment('e', 'green');
    const red = await source.deployment('e', 'red');
    endpointMetricsSchema.parse({
      scope: 'host',
      note: 'n',
      host_started_at: new Date(source.startedAt).toISOString(),
      deployments: { blue, green, red },
    });
    assert.deepEqual([blue.requests, blue.errors, blue.loaded_generation], [7, 1, 3]);
    assert.deepEqual([green.requests, green.errors, green.loaded_generation], [1, 0, 3]);
    assert.deepEqual([red.requests, red.loaded_generation], [0, undefined]);
    await registry.close();
  });
});

describe('metricsTable', () => {
  test('one row per deployment, the non-empty buckets with a column each, and whose counts they are', () => {
    const stats = new DeploymentStats(STARTED);
    for (let i = 0; i < 4; i++) stats.record(200, 0.9);
    stats.record(500, 20);
    const text = endpointMetricsTable({
      scope: 'host',
      note: "this host's counts, in memory",
      host_started_at: '2026-03-01T10:00:00.000Z',
      deployments: {
        green: toDeploymentMetrics(undefined, undefined, STARTED),
        blue: toDeploymentMetrics(stats.snapshot(), '2', STARTED),
      },
    });
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^DEPLOYMENT\s+GENERATION\s+REQUESTS\s+2XX\s+4XX\s+5XX\s+P50_MS\s+P90_MS\s+P99_MS/);
    assert.match(lines[2] ?? '', /^blue\s+2\s+5\s+4\s+0\s+1\s+≤1\s+≤32\s+≤32\s+4\.72\s+-\s+2026-03-01T10:00:00\.000Z$/);
    assert.match(lines[3] ?? '', /^green\s+-\s+0\s+0\s+0\s+0\s+-\s+-\s+-\s+0\.00/);
    assert.match(text, /LATENCY_MS\s+BLUE\s+GREEN\n-+\s+-+\s+-+\n≤1\s+4\s+0\n≤32\s+1\s+0\n/);
    assert.match(text, /Counts: this host's counts, in memory \(host started 2026-03-01T10:00:00\.000Z\)\.\n$/);
    assert.doesNotMatch(metricsTable({ green: toDeploymentMetrics(undefined, undefined, STARTED) }, 'x'), /LATENCY_MS/);
  });
});

describe('data collector wiring', () => {
  test("collects to the deployment's own sink, and answers the correlation id in x-request-id", async () => {
    const appended: { workspace: string | undefined; path: string; text: string }[] = [];
    const registry = new ScorerRegistry({
      modelRuntime: {} as ModelRuntime,
      fetchFiles: async (uri) => uri,
      createScorer: echoScorer,
      collectTo: (d) => async (path, text) => void appended.push({ workspace: d.workspace, path, text }),
      collectorOptions: { maxRecords: 1000, flushMs: 60_000 },
    });
    const collected = deployment('blue', {
      data_collector: { collections: { model_inputs: { enabled: true }, model_outputs: { enabled: 'false' } } },
    });
    const router = new EndpointRouter({
      directory: {
        lookup: () => ({
          endpoint: { name: 'e', traffic: { blue: 100 }, mirror_traffic: {}, revision: 1 },
          deployments: [collected],
        }),
        verifyCaller: () => undefined,
      },
      registry,
    });
    const given = await router.score('e', { body: Buffer.from('{"n":1}'), headers: { [REQUEST_ID_HEADER]: 'req-1' } });
    assert.equal(given.headers?.[REQUEST_ID_HEADER], 'req-1');
    const made = await router.score('e', { body: Buffer.from('{"n":2}'), headers: {} });
    const id = made.headers?.[REQUEST_ID_HEADER] ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(
      (await router.score('e', { body: Buffer.from('{"n":-1}'), headers: {} })).headers?.[REQUEST_ID_HEADER],
      undefined,
    );
    assert.equal(appended.length, 0, 'batched: nothing written yet');
    await registry.close();
    assert.equal(appended.length, 1, 'flushed on close; outputs are off');
    const [batch] = appended;
    assert.equal(batch?.workspace, 'team-a');
    assert.match(
      batch?.path ?? '',
      /^modelDataCollector\/e\/blue\/model_inputs\/\d{4}\/\d\d\/\d\d\/\d\d\/data\.jsonl$/,
    );
    const records = (batch?.text.trimEnd().split('\n') ?? []).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r['correlationid'], r['data']]),
      [
        ['req-1', { n: 1 }],
        [id, { n: 2 }],
      ],
    );
  });
});

describe('counters of several processes (scoring replicas)', () => {
  test('mergeSnapshots adds counts and histograms, keeps the earliest since, weights the mean', () => {
    const a = new DeploymentStats(STARTED + 5000);
    const b = new DeploymentStats(STARTED);
    for (let i = 0; i < 90; i++) a.record(200, 0.1);
    for (let i = 0; i < 10; i++) b.record(200, 100);
    b.record(503, 1);
    b.recordMirror(true);
    const merged = mergeSnapshots([a.snapshot(), b.snapshot()]);
    assert.ok(merged !== undefined);
    assert.equal(merged.since, STARTED);
    assert.equal(merged.requests, 101);
    assert.deepEqual(merged.responses, { '2xx': 100, '5xx': 1 });
    assert.equal(merged.errors, 1);
    assert.ok(Math.abs(merged.latency.meanMs - (90 * 0.1 + 10 * 100 + 1) / 101) < 1e-9);
    // 90 of 101 answers took ≤ 0.125 ms: the median is there, the 99th percentile in the 128 ms bucket.
    assert.equal(merged.latency.p50Ms, 0.125);
    assert.equal(merged.latency.p99Ms, 128);
    assert.equal(
      merged.latency.buckets.reduce((n, x) => n + x.count, 0),
      101,
    );
    assert.deepEqual(merged.mirrored, { requests: 1, errors: 1 });
    assert.equal(mergeSnapshots([]), undefined);
    assert.deepEqual(mergeSnapshots([a.snapshot()]), a.snapshot());
  });

  test('the metrics source adds the peers the host offers, and counts the processes', async () => {
    const registry = new ScorerRegistry({ modelRuntime: {} as ModelRuntime, fetchFiles: async (u) => u });
    const peer = new DeploymentStats(STARTED);
    for (let i = 0; i < 4; i++) peer.record(200, 2);
    offerServingPeers({
      changed: async () => undefined,
      stats: async (endpoint, name) => (endpoint === 'e' && name === 'blue' ? [peer.snapshot(), peer.snapshot()] : []),
    });
    try {
      const source = deploymentMetricsSource(registry);
      const blue = await source.deployment('e', 'blue');
      assert.deepEqual([blue.requests, blue.processes], [8, 2]);
      const red = await source.deployment('e', 'red');
      assert.deepEqual([red.requests, red.processes], [0, undefined]);
    } finally {
      offerServingPeers(undefined);
      await registry.close();
    }
  });

  test('isNewerRevision compares generations as numbers and other revisions as text', () => {
    assert.equal(isNewerRevision(10, '9'), true);
    assert.equal(isNewerRevision('9', 10), false);
    assert.equal(isNewerRevision(3, 3), false);
    assert.equal(isNewerRevision('2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z'), true);
    assert.equal(isNewerRevision('2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'), false);
  });
});

// Admission (gate), routing (traffic weights, the deployment header, mirroring), the registry's
// revision swap under load, stats and the data collector — with fake scorers and a seeded random.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnauthorizedError } from '../../shared/errors.js';
import { Rng } from '../../shared/ml/rng.js';
import type { ModelRuntime } from '../../shared/ports/model-runtime.js';
import { DataCollector } from '../../shared/serving/collector.js';
import { Gate } from '../../shared/serving/gate.js';
import { ScorerRegistry } from '../../shared/serving/registry.js';
import { buildRouteTable, EndpointRouter, pick } from '../../shared/serving/router.js';
import { jsonResponse, type DeploymentRuntime, type Scorer, type ScoreResponse } from '../../shared/serving/scorer.js';
import { bucketOf, DeploymentStats, LATENCY_BUCKETS_MS } from '../../shared/serving/stats.js';
import type { ServingDeployment, ServingEndpoint } from '../../shared/serving/types.js';

const ok = (text: string): ScoreResponse => jsonResponse(JSON.stringify(text));
const bodyOf = (res: ScoreResponse): unknown => JSON.parse(res.body.toString()) as unknown;

describe('Gate', () => {
  const gate = (maxInFlight: number, maxQueueWaitMs: number, requestTimeoutMs = 5000) =>
    new Gate({ label: 'blue', maxInFlight, maxQueueWaitMs, requestTimeoutMs });

  test('past its in-flight limit and queue wait, answers 503 with Retry-After', async () => {
    const g = gate(2, 20);
    const slow = () => g.run(async () => (await sleep(100), ok('done')));
    const results = await Promise.all([slow(), slow(), slow()]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 503],
    );
    assert.equal(results[2]?.headers?.['Retry-After'], '1');
    assert.match(
      String((bodyOf(results[2] as ScoreResponse) as { error: { message: string } }).error.message),
      /at capacity/,
    );
  });

  test('with no queue wait, a saturated gate answers 503 at once', async () => {
    const g = gate(1, 0);
    const first = g.run(async () => (await sleep(30), ok('a')));
    const t0 = Date.now();
    const second = await g.run(async () => ok('b'));
    assert.equal(second.status, 503);
    assert.ok(Date.now() - t0 < 20);
    assert.equal((await first).status, 200);
  });

  test('waiting requests start in FIFO order', async () => {
    const g = gate(1, 1000);
    const order: number[] = [];
    const all = [0, 1, 2, 3, 4].map((i) =>
      g.run(async () => {
        order.push(i);
        await sleep(5);
        return ok(String(i));
      }),
    );
    assert.equal(g.queued, 4);
    await Promise.all(all);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(g.inFlight, 0);
  });

  test('past request_timeout_ms answers 504 and aborts the work; the slot frees when the work stops', async () => {
    const g = gate(1, 1000, 30);
    let aborted = false;
    const res = await g.run(
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            setTimeout(() => resolve(ok('late')), 10);
          });
        }),
    );
    assert.equal(res.status, 504);
    assert.match(String((bodyOf(res) as { error: { message: string } }).error.message), /request_timeout_ms \(30 ms\)/);
    assert.ok(aborted);
    assert.equal(g.inFlight, 1, 'the abandoned work still holds its slot');
    await g.drain();
    assert.equal(g.inFlight, 0);
    assert.equal((await g.run(async () => ok('next'))).status, 200);
  });

  test('a throwing work rejects, and frees its slot', async () => {
    const g = gate(1, 100);
    await assert.rejects(
      g.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(g.inFlight, 0);
  });
});

describe('route tables', () => {
  const endpoint = (traffic: Record<string, number>, mirror: Record<string, number> = {}): ServingEndpoint => ({
    name: 'e',
    traffic,
    mirror_traffic: mirror,
    revision: 1,
  });

  test('90/10 traffic lands within ±3 points over 2,000 seeded draws', () => {
    const table = buildRouteTable(endpoint({ blue: 90, green: 10 }));
    const rng = new Rng(42);
    let green = 0;
    for (let i = 0; i < 2000; i++) if (pick(table, rng.next()) === 'green') green++;
    const share = (100 * green) / 2000;
    assert.ok(Math.abs(share - 10) <= 3, `green took ${share}%`);
  });

  test('all-zero traffic picks nothing; a 0% deployment is never drawn', () => {
    assert.equal(pick(buildRouteTable(endpoint({ blue: 0, green: 0 })), 0.5), undefined);
    const t = buildRouteTable(endpoint({ blue: 0, green: 100 }));
    for (const u of [0, 0.3, 0.999999]) assert.equal(pick(t, u), 'green');
  });
});

/** A fake runtime: scorers built from the deployment runtime's env answer their name and revision. */
function fakeScorers(options: { delayMs?: number; failMirror?: boolean } = {}) {
  const built: { runtime: DeploymentRuntime; closed: boolean; inFlight: number; closedBusy: boolean }[] = [];
  const createScorer = async (runtime: DeploymentRuntime): Promise<Scorer> => {
    const entry = { runtime, closed: false, inFlight: 0, closedBusy: false };
    built.push(entry);
    const who = `${runtime.environmentVariables['NAME']}@${runtime.environmentVariables['REV']}`;
    if (runtime.environmentVariables['FAIL_INIT'] === '1') throw new Error('init() failed: no model');
    return {
      async score(req) {
        if (entry.closed) throw new Error(`${who} used after close`);
        entry.inFlight++;
        try {
          if (options.delayMs !== undefined) await sleep(options.delayMs);
          if (options.failMirror === true && runtime.environmentVariables['NAME'] === 'shadow') {
            return { status: 500, body: 'shadow broke', contentType: 'text/plain' };
          }
          return ok(`${who}:${req.body.toString()}`);
        } finally {
          entry.inFlight--;
        }
      },
      async close() {
        entry.closedBusy ||= entry.inFlight > 0;
        entry.closed = true;
      },
    };
  };
  return { built, createScorer };
}

function deployment(name: string, revision: number, extra: Partial<ServingDeployment> = {}): ServingDeployment {
  return {
    name,
    endpoint_name: 'e',
    revision,
    kind: 'onnx',
    instance_count: 1,
    request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 64, max_queue_wait_ms: 500 },
    environment_variables: { NAME: name, REV: String(revision) },
    ...extra,
  };
}

function world(random: () => number, fakes = fakeScorers()) {
  const state = {
    endpoint: { name: 'e', traffic: { blue: 90, green: 10 }, mirror_traffic: {}, revision: 1 } as ServingEndpoint,
    deployments: [deployment('blue', 1), deployment('green', 1), deployment('shadow', 1)],
  };
  const warnings: string[] = [];
  const registry = new ScorerRegistry({
    modelRuntime: {} as ModelRuntime,
    fetchFiles: async (uri) => `/local/${uri}`,
    createScorer: fakes.createScorer,
  });
  const router = new EndpointRouter({
    directory: {
      lookup: (name) => (name === 'e' ? state : undefined),
      verifyCaller: (_name, auth) => {
        if (auth !== 'Bearer k') throw new UnauthorizedError('invalid endpoint key');
      },
    },
    registry,
    random,
    logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  const score = (body = 'x', headers: Record<string, string> = {}) =>
    router.score('e', { body: Buffer.from(body), headers: { authorization: 'Bearer k', ...headers } });
  return { state, registry, router, score, fakes, warnings };
}

describe('EndpointRouter', () => {
  test('routes by traffic weight, tags the answer with the deployment, and loads deployments on first use', async () => {
    const rng = new Rng(7);
    const w = world(() => rng.next());
    const counts: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const res = await w.score();
      assert.equal(res.status, 200);
      const name = res.headers?.['azureml-model-deployment'] ?? '';
      counts[name] = (counts[name] ?? 0) + 1;
    }
    assert.ok((counts['blue'] ?? 0) > 320 && (counts['green'] ?? 0) > 15, JSON.stringify(counts));
    assert.equal(counts['shadow'], undefined);
    assert.equal(w.fakes.built.length, 2, 'each deployment was loaded once');
    const stats = w.registry.stats('e');
    assert.equal((stats['blue']?.requests ?? 0) + (stats['green']?.requests ?? 0), 400);
    await w.registry.close();
  });

  test('the azureml-model-deployment header picks any deployment, even one without traffic', async () => {
    const w = world(() => 0);
    const res = await w.score('x', { 'azureml-model-deployment': 'shadow' });
    assert.equal(res.status, 200);
    assert.equal(bodyOf(res), 'shadow@1:x');
    const unknown = await w.score('x', { 'azureml-model-deployment': 'red' });
    assert.equal(unknown.status, 404);
    assert.match(
      res.body.toString() + unknown.body.toString(),
      /no deployment 'red'; its deployments are 'blue', 'green', 'shadow'/,
    );
    await w.registry.close();
  });

  test('401 for a bad key, 404 for an unknown endpoint or when nothing takes traffic, 413 over the body limit', async () => {
    const w = world(() => 0);
    const denied = await w.router.score('e', { body: Buffer.from('x'), headers: { authorization: 'Bearer nope' } });
    assert.equal(denied.status, 401);
    const missing = await w.router.score('nope', { body: Buffer.from('x'), headers: { authorization: 'Bearer k' } });
    assert.equal(missing.status, 404);
    w.state.endpoint = { ...w.state.endpoint, traffic: { blue: 0, green: 0 }, revision: 2 };
    const none = await w.score();
    assert.equal(none.status, 404);
    assert.match(none.body.toString(), /no deployment takes traffic/);
    w.state.endpoint = { ...w.state.endpoint, traffic: { blue: 100 }, revision: 3 };
    const huge = await w.score('x'.repeat(9 * 1024 * 1024));
    assert.equal(huge.status, 413);
    await w.registry.close();
  });

  test('mirrors about its percent of requests, never changes the answer, and counts mirror errors', async () => {
    const rng = new Rng(3);
    const fakes = fakeScorers({ failMirror: true });
    const w = world(() => rng.next(), fakes);
    w.state.endpoint = { ...w.state.endpoint, traffic: { blue: 100 }, mirror_traffic: { shadow: 20 }, revision: 2 };
    for (let i = 0; i < 1000; i++) {
      const res = await w.score(String(i));
      assert.equal(res.status, 200);
      assert.equal(bodyOf(res), `blue@1:${i}`);
    }
    await sleep(20);
    const shadow = w.registry.stats('e')['shadow'];
    assert.ok(shadow !== undefined);
    assert.ok(Math.abs(shadow.mirrored.requests - 200) <= 45, `${shadow.mirrored.requests} mirrored`);
    assert.equal(shadow.mirrored.errors, shadow.mirrored.requests);
    assert.equal(w.registry.stats('e')['blue']?.requests, 1000);
    assert.ok(w.warnings.includes('mirrored request failed'));
    // Header-routed requests are not mirrored.
    const before = shadow.mirrored.requests;
    for (let i = 0; i < 50; i++) await w.score('h', { 'azureml-model-deployment': 'blue' });
    await sleep(10);
    assert.equal(w.registry.stats('e')['shadow']?.mirrored.requests, before);
    await w.registry.close();
  });

  test('traffic changes and new revisions under concurrent load never fail a request in flight', async () => {
    const rng = new Rng(5);
    const fakes = fakeScorers({ delayMs: 3 });
    const w = world(() => rng.next(), fakes);
    let stop = false;
    const answers: ScoreResponse[] = [];
    const clients = Array.from({ length: 16 }, async () => {
      while (!stop) answers.push(await w.score());
    });
    for (let rev = 2; rev <= 6; rev++) {
      await sleep(15);
      const blue = deployment('blue', rev);
      w.state.deployments = [blue, deployment('green', 1), deployment('shadow', 1)];
      const result = await w.registry.provision(blue);
      assert.deepEqual(result, { ok: true });
      w.state.endpoint = {
        ...w.state.endpoint,
        traffic: rev % 2 === 0 ? { blue: 50, green: 50 } : { blue: 100 },
        revision: rev,
      };
    }
    await sleep(15);
    stop = true;
    await Promise.all(clients);
    assert.ok(answers.length > 100, `${answers.length} answers`);
    assert.deepEqual(
      answers.filter((a) => a.status !== 200).map((a) => a.body.toString()),
      [],
    );
    assert.equal(bodyOf((await w.score('z', { 'azureml-model-deployment': 'blue' })) as ScoreResponse), 'blue@6:z');
    await w.registry.close();
    const blues = fakes.built.filter((b) => b.runtime.environmentVariables['NAME'] === 'blue');
    assert.equal(blues.length, 6);
    assert.ok(
      blues.every((b) => b.closed),
      'every replaced revision was closed',
    );
    assert.ok(!fakes.built.some((b) => b.closedBusy), 'no scorer was closed with requests in flight');
  });

  test('a failed provision answers the reason and logs, and the live revision keeps serving', async () => {
    const w = world(() => 0);
    assert.deepEqual(await w.registry.provision(deployment('blue', 1)), { ok: true });
    const broken = deployment('blue', 2, { environment_variables: { NAME: 'blue', REV: '2', FAIL_INIT: '1' } });
    const result = await w.registry.provision(broken);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && /init\(\) failed: no model/.test(result.reason) && /Error/.test(result.logs));
    assert.equal(bodyOf(await w.score('q')), 'blue@1:q');
    await w.registry.close();
  });
});

describe('DeploymentStats', () => {
  test('log-scale buckets, status classes and percentiles', () => {
    assert.equal(bucketOf(0.01), 0);
    assert.equal(bucketOf(0.125), 0);
    assert.equal(bucketOf(0.2), 1);
    assert.equal(bucketOf(1), 3);
    assert.equal(bucketOf(1.5), 4);
    assert.equal(bucketOf(1e9), LATENCY_BUCKETS_MS.length);
    const s = new DeploymentStats();
    for (let i = 0; i < 98; i++) s.record(200, 0.7);
    s.record(400, 3);
    s.record(503, 100);
    s.recordMirror(true);
    const snap = s.snapshot();
    assert.equal(snap.requests, 100);
    assert.deepEqual(snap.responses, { '2xx': 98, '4xx': 1, '5xx': 1 });
    assert.equal(snap.errors, 1);
    assert.equal(snap.latency.p50Ms, 1);
    assert.equal(snap.latency.p99Ms, 4);
    assert.deepEqual(snap.mirrored, { requests: 1, errors: 1 });
  });
});

describe('DataCollector', () => {
  test('batches inputs and outputs as JSON lines under the hour of the request', async () => {
    const appended: { path: string; text: string }[] = [];
    const c = new DataCollector(
      'e',
      'blue',
      { collections: { model_inputs: { enabled: 'True' }, model_outputs: { enabled: true } } },
      { append: async (path, text) => void appended.push({ path, text }), now: () => Date.UTC(2024, 4, 6, 7, 30) },
      { maxRecords: 3, flushMs: 60_000 },
    );
    c.collect('r1', Buffer.from('{"data":[[1]]}'), 200, '[0.5]');
    c.collect('r2', Buffer.from('not json'), 200, '[1]');
    assert.equal(appended.length, 0, 'nothing is written before the batch fills');
    c.collect('r3', Buffer.from('{"data":[[3]]}'), 200, '[3]');
    await sleep(5);
    await c.flush();
    assert.deepEqual(appended.map((a) => a.path).sort(), [
      'modelDataCollector/e/blue/model_inputs/2024/05/06/07/data.jsonl',
      'modelDataCollector/e/blue/model_outputs/2024/05/06/07/data.jsonl',
    ]);
    const inputs =
      appended
        .find((a) => a.path.includes('model_inputs'))
        ?.text.trimEnd()
        .split('\n') ?? [];
    assert.equal(inputs.length, 3);
    const first = JSON.parse(inputs[0] as string) as Record<string, unknown>;
    assert.deepEqual(first['data'], { data: [[1]] });
    assert.equal(first['correlationid'], 'r1');
    assert.equal((JSON.parse(inputs[1] as string) as Record<string, unknown>)['data'], 'not json');
  });

  test('a failing append is logged and never reaches the request', async () => {
    const errors: string[] = [];
    const c = new DataCollector(
      'e',
      'blue',
      { collections: { model_inputs: { enabled: true } } },
      {
        append: () => Promise.reject(new Error('disk full')),
        logger: { warn: () => undefined, error: (m) => errors.push(m) },
      },
      { maxRecords: 1 },
    );
    c.collect('r1', 'x', 200, 'y');
    await sleep(5);
    await c.flush();
    assert.equal(c.dropped, 1);
    assert.equal(errors.length, 1);
  });
});

// Issue 6's flow as a user runs it against a running host: deploy blue, invoke; deploy green; set
// traffic blue=90 green=10 and see 90/10 over 2,000 requests, which online-endpoint show counts;
// mirror 20% to a third deployment; an update of blue to a broken model fails with its logs while
// the old model keeps answering; 401 without a key; regenerate-keys invalidates the old key at
// once; malformed input is a 400 naming the problem while the endpoint keeps serving; a
// data_collector's inputs and outputs land in workspaceblobstore, read back with the CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { EndpointMetrics, OnlineDeployment } from '../../shared/contracts/endpoint.js';
import { tempDir } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';
import { bareModelFolder } from '../support/serving-models.js';
import { runTessera, succeeded, type CliResult } from '../support/tessera-cli.js';

describe('online endpoints through the tessera CLI and the scoring URI', () => {
  let host: HostProcess;
  let dataDir: string;
  let specs: string;

  before(async () => {
    dataDir = tempDir('endpoints-e2e');
    host = await startHostProcess({ dataDir });
    specs = tempDir('endpoints-specs');
    // Three bare linear models that answer differently: y = 1·x, 2·x, 3·x.
    const models = { blue: bareModelFolder([1], 0), green: bareModelFolder([2], 0), shadow: bareModelFolder([3], 0) };
    writeFileSync(join(specs, 'endpoint.yml'), 'name: split-ep\nauth_mode: key\n');
    for (const [name, dir] of Object.entries(models)) {
      writeFileSync(
        join(specs, `${name}.yml`),
        [
          '$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json',
          `name: ${name}`,
          'endpoint_name: split-ep',
          'model:',
          `  path: ${dir}`,
          'instance_type: Standard_DS3_v2',
          'instance_count: 1',
          'request_settings:',
          '  max_concurrent_requests_per_instance: 8',
          // Generous waits: the test machine runs other suites beside this one.
          '  max_queue_wait_ms: 10000',
          '  request_timeout_ms: 20000',
          '',
        ].join('\n'),
      );
    }
    writeFileSync(join(specs, 'request.json'), JSON.stringify({ data: [[2]] }));
    // blue again, with a model file that is not ONNX: its update fails to load.
    const broken = join(specs, 'broken-model');
    mkdirSync(broken);
    writeFileSync(join(broken, 'model.onnx'), 'this is not an ONNX graph');
    writeFileSync(
      join(specs, 'blue-broken.yml'),
      readFileSync(join(specs, 'blue.yml'), 'utf8').replace(/ {2}path: .*/, `  path: ${broken}`),
    );
    writeFileSync(join(specs, 'collect-endpoint.yml'), 'name: collect-ep\nauth_mode: key\n');
    writeFileSync(
      join(specs, 'watched.yml'),
      readFileSync(join(specs, 'green.yml'), 'utf8')
        .replace('name: green', 'name: watched')
        .replace('endpoint_name: split-ep', 'endpoint_name: collect-ep') +
        [
          'data_collector:',
          '  collections:',
          '    model_inputs:',
          "      enabled: 'True'",
          '    model_outputs:',
          "      enabled: 'True'",
          '  sampling_rate: 1.0',
          '',
        ].join('\n'),
    );
  });
  after(async () => {
    await host.stop('SIGTERM');
  });

  const tessera = (...args: string[]): Promise<CliResult> => runTessera(args, { dataDir, cwd: specs });
  const ok = succeeded;
  const keys = async (): Promise<{ primaryKey: string; secondaryKey: string }> =>
    JSON.parse(ok(await tessera('online-endpoint', 'get-credentials', '--name', 'split-ep'))) as {
      primaryKey: string;
      secondaryKey: string;
    };
  const score = (key: string | undefined, body: unknown = { data: [[2]] }, headers: Record<string, string> = {}) =>
    fetch(`${host.origin}/api/endpoints/split-ep/score`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const metrics = async (): Promise<EndpointMetrics> => {
    const shown = JSON.parse(ok(await tessera('online-endpoint', 'show', '--name', 'split-ep'))) as {
      metrics?: EndpointMetrics;
    };
    assert.ok(shown.metrics !== undefined, 'online-endpoint show has metrics');
    return shown.metrics;
  };

  it('deploys blue and answers through invoke and the scoring URI', async () => {
    ok(await tessera('online-endpoint', 'create', '--file', 'endpoint.yml'));
    ok(await tessera('online-deployment', 'create', '--file', 'blue.yml', '--all-traffic'));
    const invoked = ok(
      await tessera('online-endpoint', 'invoke', '--name', 'split-ep', '--request-file', 'request.json'),
    );
    assert.deepEqual(JSON.parse(invoked), [2]);
    const { primaryKey } = await keys();
    const answer = await score(primaryKey);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('azureml-model-deployment'), 'blue');
    assert.deepEqual(await answer.json(), [2]);
  });

  it('splits traffic blue=90 green=10 within ±3 points over 2,000 requests, and mirrors 20% to a third deployment', async () => {
    ok(await tessera('online-deployment', 'create', '--file', 'green.yml'));
    ok(await tessera('online-deployment', 'create', '--file', 'shadow.yml'));
    ok(await tessera('online-endpoint', 'update', '--name', 'split-ep', '--traffic', 'blue=90 green=10 shadow=0'));
    ok(await tessera('online-endpoint', 'update', '--name', 'split-ep', '--mirror-traffic', 'shadow=20'));
    const { primaryKey } = await keys();
    const before = await metrics();
    const counts: Record<string, number> = {};
    // Batches of 8, the deployments' in-flight limit: no request waits in a queue.
    for (let batch = 0; batch < 250; batch++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => score(primaryKey)));
      for (const a of answers) {
        assert.equal(a.status, 200);
        const by = a.headers.get('azureml-model-deployment') ?? '?';
        const [value] = (await a.json()) as number[];
        assert.equal(
          value,
          by === 'blue' ? 2 : 4,
          'each deployment answers with its own model; the mirror never answers',
        );
        counts[by] = (counts[by] ?? 0) + 1;
      }
    }
    const blue = (counts.blue ?? 0) / 2000;
    assert.ok(Math.abs(blue - 0.9) <= 0.03, `blue took ${(blue * 100).toFixed(1)}% (${JSON.stringify(counts)})`);
    assert.equal((counts.blue ?? 0) + (counts.green ?? 0), 2000);
    // online-endpoint show counts what each deployment answered on this host.
    const after = await metrics();
    assert.equal(after.scope, 'host');
    assert.match(after.note, /this host's counts, in memory/);
    const served = (m: EndpointMetrics, d: string): number => m.deployments[d]?.requests ?? 0;
    assert.equal(served(after, 'blue') - served(before, 'blue'), counts.blue ?? 0);
    assert.equal(served(after, 'green') - served(before, 'green'), counts.green ?? 0);
    assert.equal(served(after, 'shadow'), 0, 'mirrored copies are not requests');
    const shadowMirrored = after.deployments['shadow']?.mirrored.requests ?? 0;
    assert.ok(shadowMirrored > 200 && shadowMirrored < 600, `${shadowMirrored} mirrored`);
    const blueMetrics = after.deployments['blue'];
    assert.equal(blueMetrics?.errors, 0);
    assert.equal(blueMetrics?.responses['2xx'], served(after, 'blue'));
    assert.equal(blueMetrics?.loaded_generation, 1);
    assert.ok(blueMetrics?.latency_ms.p50 !== null && blueMetrics?.latency_ms.p99 !== null);
    assert.equal(
      blueMetrics?.latency_ms.histogram.reduce((n, b) => n + b.count, 0),
      served(after, 'blue'),
      'the histogram holds every request',
    );
    const table = ok(await tessera('online-endpoint', 'show', '--name', 'split-ep', '-o', 'table'));
    assert.match(
      table,
      new RegExp(`\\nblue\\s+1\\s+${served(after, 'blue')}\\s+${served(after, 'blue')}\\s+0\\s+0\\s`),
    );
    assert.match(table, /LATENCY_MS\s+BLUE\s+GREEN\s+SHADOW/);
    assert.match(table, /this host's counts, in memory/);
    const deployment = JSON.parse(
      ok(await tessera('online-deployment', 'show', '--name', 'green', '--endpoint-name', 'split-ep')),
    ) as OnlineDeployment;
    assert.equal(deployment.metrics?.requests, served(after, 'green'));
    // The header picks a deployment whatever the traffic, the mirror included.
    const direct = await fetch(`${host.origin}/api/endpoints/split-ep/score`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${primaryKey}`,
        'azureml-model-deployment': 'shadow',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ data: [[2]] }),
    });
    assert.deepEqual(await direct.json(), [6]);
  });

  it('moves all traffic back and forth under 64 concurrent connections without failing a request', async () => {
    const { primaryKey } = await keys();
    const statuses: Record<string, number> = {};
    const served: Record<string, number> = {};
    let loading = true;
    const client = async (): Promise<void> => {
      while (loading) {
        const a = await score(primaryKey);
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        const by = a.headers.get('azureml-model-deployment') ?? '?';
        served[by] = (served[by] ?? 0) + 1;
        await a.arrayBuffer();
      }
    };
    const clients = Array.from({ length: 64 }, client);
    try {
      for (const traffic of ['blue=0 green=100', 'blue=100 green=0', 'blue=0 green=100', 'blue=90 green=10']) {
        ok(await tessera('online-endpoint', 'update', '--name', 'split-ep', '--traffic', traffic));
      }
    } finally {
      loading = false;
      await Promise.all(clients);
    }
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    assert.deepEqual(statuses, { 200: total }, `every request answered 200 (${JSON.stringify(statuses)})`);
    assert.ok((served.blue ?? 0) > 0 && (served.green ?? 0) > 0, `both served: ${JSON.stringify(served)}`);
  });

  it('an update of blue to a broken model fails with its logs; blue keeps answering with its old model, green untouched', async () => {
    const failed = await tessera('online-deployment', 'update', '--file', 'blue-broken.yml');
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /blue Failed: /);
    assert.match(failed.stderr, /Generation 1 keeps serving/);
    const blue = JSON.parse(
      ok(await tessera('online-deployment', 'show', '--name', 'blue', '--endpoint-name', 'split-ep')),
    ) as OnlineDeployment;
    assert.equal(blue.provisioning_state, 'Failed');
    assert.equal(blue.generation, 2);
    assert.equal(blue.serving_generation, 1);
    assert.ok((blue.error?.reason ?? '') !== '', 'the reason is given');
    const logs = ok(await tessera('online-deployment', 'get-logs', '--name', 'blue', '--endpoint-name', 'split-ep'));
    assert.match(logs, /provisioning generation 2/);
    assert.match(logs, /Failed: /);
    assert.match(logs, /generation 1 keeps serving/);
    const { primaryKey } = await keys();
    for (const [name, expected] of [
      ['blue', [2]],
      ['green', [4]],
    ] as const) {
      const answer = await score(primaryKey, { data: [[2]] }, { 'azureml-model-deployment': name });
      assert.equal(answer.status, 200, name);
      assert.deepEqual(await answer.json(), expected, `${name} answers with its working model`);
    }
    const byTraffic = await Promise.all(Array.from({ length: 8 }, () => score(primaryKey)));
    assert.deepEqual(
      byTraffic.map((a) => a.status),
      Array.from({ length: 8 }, () => 200),
    );
    const green = JSON.parse(
      ok(await tessera('online-deployment', 'show', '--name', 'green', '--endpoint-name', 'split-ep')),
    ) as OnlineDeployment;
    assert.deepEqual([green.provisioning_state, green.generation, green.serving_generation], ['Succeeded', 1, 1]);
  });

  it('answers 401 without a valid key, and regenerate-keys invalidates the old key at once', async () => {
    assert.equal((await score(undefined)).status, 401);
    assert.equal((await score('not-a-key')).status, 401);
    const before = await keys();
    assert.equal((await score(before.primaryKey)).status, 200);
    ok(await tessera('online-endpoint', 'regenerate-keys', '--name', 'split-ep', '--key-type', 'primary'));
    assert.equal((await score(before.primaryKey)).status, 401, 'the old primary key stops working at once');
    assert.equal((await score(before.secondaryKey)).status, 200, 'the secondary key still works');
    const after = await keys();
    assert.notEqual(after.primaryKey, before.primaryKey);
    assert.equal((await score(after.primaryKey)).status, 200);
  });

  it('malformed input gets a 400 naming the problem, and the endpoint keeps serving', async () => {
    const { primaryKey } = await keys();
    const wide = await score(primaryKey, { data: [[1, 2, 3]] });
    assert.equal(wide.status, 400);
    assert.match(JSON.stringify(await wide.json()), /row 0/);
    const text = await score(primaryKey, { data: [['abc']] });
    assert.equal(text.status, 400);
    assert.match(JSON.stringify(await text.json()), /abc/);
    const huge = await fetch(`${host.origin}/api/endpoints/split-ep/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${primaryKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: Array.from({ length: 700_000 }, () => [1.2345678]) }),
    });
    assert.ok(huge.status === 413 || huge.status === 400, `status ${huge.status}`);
    assert.equal((await score(primaryKey)).status, 200, 'still serving');
  });

  it('collects inputs and outputs of a data_collector deployment to workspaceblobstore, read back with the CLI', async () => {
    ok(await tessera('online-endpoint', 'create', '--file', 'collect-endpoint.yml'));
    ok(await tessera('online-deployment', 'create', '--file', 'watched.yml', '--all-traffic'));
    const { primaryKey } = JSON.parse(
      ok(await tessera('online-endpoint', 'get-credentials', '--name', 'collect-ep')),
    ) as { primaryKey: string };
    const sent: { id: string; x: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `e2e-request-${i}`;
      const answer = await fetch(`${host.origin}/api/endpoints/collect-ep/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${primaryKey}`, 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify({ data: [[i]] }),
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('x-request-id'), id);
      assert.deepEqual(await answer.json(), [2 * i]);
      sent.push({ id, x: i });
    }
    // Batched: written within the collector's flush interval (5 s), then read back with the CLI.
    const records = async (): Promise<Record<string, Record<string, unknown>[]>> => {
      const into = tempDir('collected');
      const listed = await tessera(
        'datastore',
        'download',
        '-n',
        'workspaceblobstore',
        '--path',
        'modelDataCollector/collect-ep/',
        '--download-path',
        into,
      );
      const found: Record<string, Record<string, unknown>[]> = { model_inputs: [], model_outputs: [] };
      if (listed.code !== 0) return found;
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
        );
      for (const file of walk(into).filter((f) => f.endsWith('.jsonl'))) {
        const collection =
          /collect-ep[\\/]watched[\\/](model_inputs|model_outputs)[\\/]\d{4}[\\/]\d\d[\\/]\d\d[\\/]\d\d[\\/]data\.jsonl$/.exec(
            file,
          )?.[1];
        assert.ok(collection !== undefined, `unexpected file ${file}`);
        for (const line of readFileSync(file, 'utf8').trimEnd().split('\n')) {
          found[collection]?.push(JSON.parse(line) as Record<string, unknown>);
        }
      }
      return found;
    };
    let found = await records();
    for (
      let tries = 0;
      tries < 40 && (found.model_inputs?.length ?? 0) + (found.model_outputs?.length ?? 0) < 10;
      tries++
    ) {
      await sleep(500);
      found = await records();
    }
    const byId = (list: Record<string, unknown>[] | undefined) =>
      Object.fromEntries((list ?? []).map((r) => [r['correlationid'], r['data']]));
    assert.deepEqual(byId(found.model_inputs), Object.fromEntries(sent.map((s) => [s.id, { data: [[s.x]] }])));
    assert.deepEqual(byId(found.model_outputs), Object.fromEntries(sent.map((s) => [s.id, [2 * s.x]])));
    assert.ok(found.model_outputs?.every((r) => r['status'] === 200 && r['deployment'] === 'watched'));
  });

  it('a deleted deployment is unloaded: created again under its name, it starts from nothing', async () => {
    const watched = async (): Promise<number> => {
      const shown = JSON.parse(ok(await tessera('online-endpoint', 'show', '--name', 'collect-ep'))) as {
        metrics?: EndpointMetrics;
      };
      return shown.metrics?.deployments['watched']?.requests ?? 0;
    };
    assert.equal(await watched(), 5, 'the collector test sent five requests');
    ok(await tessera('online-endpoint', 'update', '--name', 'collect-ep', '--traffic', 'watched=0'));
    ok(await tessera('online-deployment', 'delete', '--name', 'watched', '--endpoint-name', 'collect-ep'));
    ok(await tessera('online-deployment', 'create', '--file', 'watched.yml', '--all-traffic'));
    const { primaryKey } = JSON.parse(
      ok(await tessera('online-endpoint', 'get-credentials', '--name', 'collect-ep')),
    ) as { primaryKey: string };
    const answer = await fetch(`${host.origin}/api/endpoints/collect-ep/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${primaryKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: [[4]] }),
    });
    assert.deepEqual(await answer.json(), [8]);
    assert.equal(await watched(), 1, 'the new deployment counts only its own request');
  });
});

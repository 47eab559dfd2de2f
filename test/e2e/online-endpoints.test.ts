// Issue 6's flow as a user runs it against a running host: deploy blue, invoke; deploy green; set
// traffic blue=90 green=10 and see 90/10 over 2,000 requests; mirror 20% to a third deployment;
// 401 without a key; regenerate-keys invalidates the old key at once; malformed input is a 400
// naming the problem while the endpoint keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';
import { bareModelFolder } from '../support/serving-models.js';

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

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
  });
  after(async () => {
    await host.stop('SIGTERM');
  });

  async function tessera(...args: string[]): Promise<Result> {
    try {
      const { stdout, stderr } = await run(process.execPath, [resolve('dist/cli/tessera.js'), ...args], {
        cwd: specs,
        env: { ...process.env, TESSERA_DATA_DIR: dataDir, TESSERA_TOKEN: '', TESSERA_ENDPOINT: '' },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }
  const ok = (r: Result): string => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const keys = async (): Promise<{ primaryKey: string; secondaryKey: string }> =>
    JSON.parse(ok(await tessera('online-endpoint', 'get-credentials', '--name', 'split-ep'))) as {
      primaryKey: string;
      secondaryKey: string;
    };
  const score = (key: string | undefined, body: unknown = { data: [[2]] }) =>
    fetch(`${host.origin}/api/endpoints/split-ep/score`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
      body: JSON.stringify(body),
    });

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
});

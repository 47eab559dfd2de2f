// The local host's scoring replicas (local/replicas.ts) against a running host with two of them:
// new connections go in turn to the main process and each replica, so a run of requests that each
// open their own connection reaches all three. Every process answers the scoring URI; show adds
// up every process's requests; a traffic change, a new generation and regenerate-keys apply to
// the very next request in every process; a replica forwards the management API to the main
// process; a replica that dies is started again while the others keep answering.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { EndpointMetrics } from '../../shared/contracts/endpoint.js';
import { tempDir } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';
import { bareModelFolder } from '../support/serving-models.js';
import { runTessera, succeeded, type CliResult } from '../support/tessera-cli.js';

const PROCESSES = 3;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a connection of its own (closed after it), so that each takes the next process in turn. */
function once(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('scoring replicas of the local host', () => {
  let host: HostProcess;
  let dataDir: string;
  let specs: string;

  before(async () => {
    dataDir = tempDir('replicas-e2e');
    host = await startHostProcess({ dataDir, env: { TESSERA_SCORING_REPLICAS: String(PROCESSES - 1) } });
    await waitFor('both replicas', () => /scoring replica 1 \(pid \d+\) is serving/.test(host.output()));
    await waitFor('both replicas', () => /scoring replica 2 \(pid \d+\) is serving/.test(host.output()));
    specs = tempDir('replicas-specs');
    writeFileSync(join(specs, 'endpoint.yml'), 'name: many-ep\nauth_mode: key\n');
    const deployment = (name: string, dir: string) =>
      [
        `name: ${name}`,
        'endpoint_name: many-ep',
        'model:',
        `  path: ${dir}`,
        'instance_type: Standard_DS3_v2',
        'instance_count: 1',
        '',
      ].join('\n');
    writeFileSync(join(specs, 'blue.yml'), deployment('blue', bareModelFolder([1], 0)));
    writeFileSync(join(specs, 'green.yml'), deployment('green', bareModelFolder([2], 0)));
    writeFileSync(join(specs, 'blue-v2.yml'), deployment('blue', bareModelFolder([5], 0)));
    writeFileSync(join(specs, 'collect-endpoint.yml'), 'name: kept-ep\nauth_mode: key\n');
    writeFileSync(
      join(specs, 'kept.yml'),
      deployment('kept', bareModelFolder([2], 0)).replace('endpoint_name: many-ep', 'endpoint_name: kept-ep') +
        ['data_collector:', '  collections:', '    model_inputs:', "      enabled: 'True'", ''].join('\n'),
    );
  });
  after(async () => {
    await host.stop('SIGTERM');
  });

  const tessera = (...args: string[]): Promise<CliResult> => runTessera(args, { dataDir, cwd: specs });
  const ok = succeeded;
  const primaryKey = async (): Promise<string> =>
    (JSON.parse(ok(await tessera('online-endpoint', 'get-credentials', '--name', 'many-ep'))) as { primaryKey: string })
      .primaryKey;
  const score = (key: string, headers: Record<string, string> = {}) =>
    once(
      `${host.origin}/api/endpoints/many-ep/score`,
      'POST',
      { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      JSON.stringify({ data: [[2]] }),
    );
  /** `n` requests in a row, each on its own connection: every process answers n / PROCESSES of them. */
  const scoreMany = async (n: number, key: string, headers: Record<string, string> = {}): Promise<Answer[]> => {
    const out: Answer[] = [];
    for (let i = 0; i < n; i++) out.push(await score(key, headers));
    return out;
  };

  it('every process answers the scoring URI, and show adds up the requests of all of them', async () => {
    ok(await tessera('online-endpoint', 'create', '--file', 'endpoint.yml'));
    ok(await tessera('online-deployment', 'create', '--file', 'blue.yml', '--all-traffic'));
    const key = await primaryKey();
    const answers = await scoreMany(30, key);
    assert.deepEqual(
      answers.map((a) => [a.status, a.body]),
      answers.map(() => [200, '[2]']),
    );
    const shown = JSON.parse(ok(await tessera('online-endpoint', 'show', '--name', 'many-ep'))) as {
      metrics: EndpointMetrics;
    };
    const blue = shown.metrics.deployments['blue'];
    assert.equal(blue?.requests, 30, 'every answered request is counted once');
    assert.equal(blue?.processes, PROCESSES, 'the main process and both replicas served blue');
    assert.equal(blue?.responses['2xx'], 30);
  });

  it('a traffic change, a new generation and regenerate-keys apply to the next request in every process', async () => {
    ok(await tessera('online-deployment', 'create', '--file', 'green.yml'));
    ok(await tessera('online-endpoint', 'update', '--name', 'many-ep', '--traffic', 'blue=0 green=100'));
    const key = await primaryKey();
    const moved = await scoreMany(3 * PROCESSES, key);
    assert.deepEqual(
      moved.map((a) => [a.status, a.headers['azureml-model-deployment'], a.body]),
      moved.map(() => [200, 'green', '[4]']),
    );

    ok(await tessera('online-deployment', 'update', '--file', 'blue-v2.yml'));
    const updated = await scoreMany(3 * PROCESSES, key, { 'azureml-model-deployment': 'blue' });
    assert.deepEqual(
      updated.map((a) => [a.status, a.body]),
      updated.map(() => [200, '[10]']),
      'every process answers with generation 2 of blue',
    );

    ok(await tessera('online-endpoint', 'regenerate-keys', '--name', 'many-ep', '--key-type', 'primary'));
    const refused = await scoreMany(3 * PROCESSES, key);
    assert.deepEqual(
      refused.map((a) => a.status),
      refused.map(() => 401),
      'the old key stops working at once in every process',
    );
    const fresh = await scoreMany(PROCESSES, await primaryKey());
    assert.deepEqual(
      fresh.map((a) => a.status),
      fresh.map(() => 200),
    );
  });

  it('a replica forwards every other route to the main process', async () => {
    const { token } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { token: string };
    const url = `${host.origin}/api/workspaces/default/onlineEndpoints/many-ep`;
    const shown = [];
    for (let i = 0; i < 2 * PROCESSES; i++) shown.push(await once(url, 'GET', { authorization: `Bearer ${token}` }));
    assert.deepEqual(
      shown.map((a) => [a.status, (JSON.parse(a.body) as { name?: string }).name]),
      shown.map(() => [200, 'many-ep']),
    );
    const missing = await Promise.all(
      Array.from({ length: PROCESSES }, () => once(`${host.origin}/api/no/such/route`, 'GET', {})),
    );
    assert.deepEqual(
      missing.map((a) => a.status),
      missing.map(() => 404),
    );
  });

  it('a data collector loses no record: its endpoint is scored by the one writer, the main process', async () => {
    ok(await tessera('online-endpoint', 'create', '--file', 'collect-endpoint.yml'));
    ok(await tessera('online-deployment', 'create', '--file', 'kept.yml', '--all-traffic'));
    const key = (
      JSON.parse(ok(await tessera('online-endpoint', 'get-credentials', '--name', 'kept-ep'))) as {
        primaryKey: string;
      }
    ).primaryKey;
    const ids = Array.from({ length: 4 * PROCESSES }, (_, i) => `kept-${i}`);
    for (const id of ids) {
      const answer = await once(
        `${host.origin}/api/endpoints/kept-ep/score`,
        'POST',
        { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': id },
        JSON.stringify({ data: [[1]] }),
      );
      assert.equal(answer.status, 200);
    }
    // The collector flushes within 5 s; read the hour files back with the CLI until all are there.
    let collected: string[] = [];
    for (let tries = 0; tries < 40 && collected.length < ids.length; tries++) {
      await sleep(500);
      const into = tempDir('kept');
      const got = await tessera(
        'datastore',
        'download',
        '-n',
        'workspaceblobstore',
        '--path',
        'modelDataCollector/kept-ep/',
        '--download-path',
        into,
      );
      if (got.code !== 0) continue;
      const files = (readdirSync(into, { recursive: true }) as string[]).filter((f) => f.endsWith('.jsonl'));
      collected = files.flatMap((f) =>
        readFileSync(join(into, f), 'utf8')
          .trimEnd()
          .split('\n')
          .map((line) => String((JSON.parse(line) as { correlationid: unknown }).correlationid)),
      );
    }
    assert.deepEqual([...collected].sort(), [...ids].sort());
  });

  it('a replica that dies is started again, and the others keep answering meanwhile', async () => {
    const pid = Number(/scoring replica 1 \(pid (\d+)\) is serving/.exec(host.output())?.[1]);
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    await waitFor('the exit to be seen', () =>
      /scoring replica 1 exited \(SIGKILL\); starting it again/.test(host.output()),
    );
    const key = await primaryKey();
    const meanwhile = await scoreMany(2 * PROCESSES, key);
    assert.deepEqual(
      meanwhile.map((a) => a.status),
      meanwhile.map(() => 200),
    );
    await waitFor('the new replica', () =>
      [...host.output().matchAll(/scoring replica 1 \(pid (\d+)\) is serving/g)].some((m) => Number(m[1]) !== pid),
    );
    const after = await scoreMany(2 * PROCESSES, key);
    assert.deepEqual(
      after.map((a) => [a.status, a.body]),
      after.map(() => [200, '[4]']),
    );
  });
});

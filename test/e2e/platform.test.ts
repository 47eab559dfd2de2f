// The platform as a newcomer gets it: `node dist/local/main.js` on a fresh data folder, driven
// over HTTP and with the `tessera` CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { tempDir, waitFor } from '../support/fixture-app.js';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { loadOrCreateSigningKey } from '../../shared/wiring.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';
import { runTessera, type CliResult } from '../support/tessera-cli.js';

const run = promisify(execFile);

describe('platform end to end (host process + CLI)', () => {
  let host: HostProcess;
  let dataDir: string;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  before(async () => {
    dataDir = tempDir('platform');
    host = await startHostProcess({ dataDir });
    token = (JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { token: string }).token;
  });
  after(async () => {
    await host.stop('SIGTERM');
  });

  const tessera = (...args: string[]): Promise<CliResult> => runTessera(args, { dataDir });

  it('answers /api/health without credentials', async () => {
    const res = await fetch(`${host.origin}/api/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      status: string;
      version: string;
      stores: Record<string, string>;
      functions: number;
    };
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(body.stores, { metadata: 'sqlite', artifacts: 'filesystem', queue: 'sqlite' });
    assert.ok(body.functions >= 10);
  });

  it('lists HTTP, timer, orchestration and activity functions registered through the real libraries', async () => {
    const res = await fetch(`${host.origin}/admin/functions`);
    assert.equal(res.status, 200);
    const fns = (await res.json()) as { name: string; trigger: string; route?: string; schedule?: string }[];
    const triggers = new Set(fns.map((f) => f.trigger));
    for (const t of ['httpTrigger', 'timerTrigger', 'orchestrationTrigger', 'activityTrigger'])
      assert.ok(triggers.has(t), `no ${t}`);
    assert.ok(fns.some((f) => f.route === 'api/workspaces/{name}'));
    assert.ok(fns.some((f) => typeof f.schedule === 'string'));
  });

  it('seeds the default workspace with the sample iris data asset, readable as a table', async () => {
    const res = await fetch(`${host.origin}/api/workspaces/default/data/iris/versions/1/preview?rows=2`, {
      headers: auth(),
    });
    assert.equal(res.status, 200);
    const preview = (await res.json()) as { columns: { name: string }[]; rows: unknown[][] };
    assert.deepEqual(
      preview.columns.map((c) => c.name),
      ['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm', 'target'],
    );
    assert.equal(preview.rows.length, 2);
  });

  it('writes credentials.json readable by the user only, with a working admin token', async () => {
    assert.equal(statSync(join(dataDir, 'credentials.json')).mode & 0o777, 0o600);
    const res = await fetch(`${host.origin}/api/workspaces/default`, { headers: auth() });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { name: string }).name, 'default');
  });

  it('answers 401 without or with a bad credential and 403 for a token lacking the workspace', async () => {
    assert.equal((await fetch(`${host.origin}/api/workspaces/default`)).status, 401);
    assert.equal(
      (await fetch(`${host.origin}/api/workspaces/default`, { headers: { authorization: 'Bearer tsr_nope' } })).status,
      401,
    );
    const created = await fetch(`${host.origin}/api/tokens`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ workspaces: ['other'], description: 'limited' }),
    });
    assert.equal(created.status, 201);
    const limited = ((await created.json()) as { token: string }).token;
    const res = await fetch(`${host.origin}/api/workspaces/default`, {
      headers: { authorization: `Bearer ${limited}` },
    });
    assert.equal(res.status, 403);
  });

  it('never crashes on bad input: 400 for malformed JSON, 404 for unknown routes, 405 for wrong methods', async () => {
    const bad = await fetch(`${host.origin}/api/workspaces/new-ws`, {
      method: 'PUT',
      headers: auth(),
      body: '{not json',
    });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'ValidationError');
    const badName = await fetch(`${host.origin}/api/workspaces/-bad-`, { method: 'PUT', headers: auth(), body: '{}' });
    assert.equal(badName.status, 400);
    assert.equal((await fetch(`${host.origin}/api/no/such/route`)).status, 404);
    assert.equal((await fetch(`${host.origin}/api/health`, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(`${host.origin}/api/health`)).status, 200, 'the host is still up');
  });

  it('drives the API with the tessera CLI using credentials.json', async () => {
    const health = await tessera('health');
    assert.equal(health.code, 0, health.stderr);
    assert.equal((JSON.parse(health.stdout) as { status: string }).status, 'ok');
    const created = await tessera('workspace', 'create', '--name', 'cli-ws', '--description', 'from the CLI');
    assert.equal(created.code, 0, created.stderr);
    const shown = await tessera('workspace', 'show', '--name', 'cli-ws');
    const workspace = JSON.parse(shown.stdout) as { description: string; mlflow_tracking_uri: string };
    assert.equal(workspace.description, 'from the CLI');
    assert.match(workspace.mlflow_tracking_uri, /^http:\/\/127\.0\.0\.1:\d+\/api\/workspaces\/cli-ws\/mlflow$/);
    const missing = await tessera('workspace', 'show', '--name', 'does-not-exist');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /does-not-exist/);
  });

  it('serves an HMAC-signed artifact URL without other credentials, and refuses a tampered one', async () => {
    const signingKey = loadOrCreateSigningKey(join(dataDir, 'keys', 'artifact-signing.key'));
    const store = new FilesystemArtifactStore({
      root: join(dataDir, 'artifacts'),
      signingKey,
      publicBaseUrl: host.origin,
    });
    await store.put('models', 'demo/model v1.onnx', Buffer.from('onnx-bytes'), {
      contentType: 'application/octet-stream',
    });
    const url = await store.signedReadUrl('models', 'demo/model v1.onnx', { expiresInSeconds: 60 });
    assert.ok(url.startsWith(`${host.origin}/api/artifacts/signed/models/`));
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'onnx-bytes');
    const tampered = url.replace('demo/', 'demo2/');
    assert.equal((await fetch(tampered)).status, 403);
    const unsigned = url.slice(0, url.indexOf('?'));
    assert.ok([400, 403].includes((await fetch(unsigned)).status));
  });

  it('runs the housekeeping timer by hand: it starts the housekeeping orchestration, which completes', async () => {
    const res = await fetch(`${host.origin}/admin/functions/housekeeping-timer`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 202);
    const instanceId = `housekeeping-${new Date().toISOString().slice(0, 13)}`;
    const status = await waitFor('the housekeeping orchestration', async () => {
      const r = await fetch(
        `${host.origin}/runtime/webhooks/durabletask/instances/${instanceId}?code=${host.systemKey}`,
      );
      if (r.status !== 200) return undefined;
      return (await r.json()) as { runtimeStatus: string; output: unknown };
    });
    assert.equal(status.runtimeStatus, 'Completed');
    assert.equal(typeof status.output, 'object');
    const orchestration = await fetch(`${host.origin}/admin/functions/housekeeping`, { method: 'POST' });
    assert.equal(orchestration.status, 400);
  });

  it('creates, uses and revokes a token from the host command line', async () => {
    const { stdout } = await run(
      process.execPath,
      [resolve('dist/local/main.js'), 'token', 'create', '--workspace', 'default'],
      {
        env: { ...process.env, TESSERA_DATA_DIR: dataDir },
      },
    );
    const created = JSON.parse(stdout.slice(0, stdout.lastIndexOf('}') + 1)) as { id: string; token: string };
    assert.equal(
      (await fetch(`${host.origin}/api/workspaces/default`, { headers: { authorization: `Bearer ${created.token}` } }))
        .status,
      200,
    );
    await run(process.execPath, [resolve('dist/local/main.js'), 'token', 'revoke', '--id', created.id], {
      env: { ...process.env, TESSERA_DATA_DIR: dataDir },
    });
    assert.equal(
      (await fetch(`${host.origin}/api/workspaces/default`, { headers: { authorization: `Bearer ${created.token}` } }))
        .status,
      401,
    );
  });
});

describe('configuration errors', () => {
  it('refuses TESSERA_AUTH=off on a non-loopback address, naming the key', async () => {
    try {
      await run(process.execPath, [resolve('dist/local/main.js')], {
        env: {
          ...process.env,
          TESSERA_DATA_DIR: tempDir('cfg'),
          TESSERA_AUTH: 'off',
          TESSERA_BIND_ADDRESS: '0.0.0.0',
          PORT: '0',
        },
      });
      assert.fail('the host started');
    } catch (err) {
      const e = err as { code: number; stderr: string };
      assert.equal(e.code, 2);
      assert.match(e.stderr, /TESSERA_AUTH/);
    }
  });

  it('names the bad key of an invalid PORT', async () => {
    try {
      await run(process.execPath, [resolve('dist/local/main.js')], {
        env: { ...process.env, TESSERA_DATA_DIR: tempDir('cfg2'), PORT: 'seventy' },
      });
      assert.fail('the host started');
    } catch (err) {
      assert.match((err as { stderr: string }).stderr, /PORT/);
    }
  });
});

// Kill the host with SIGKILL while a job runs, then restart it: the job ends Completed or Failed
// with a reason, none stays Running, and a metric acknowledged before the kill is still there.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Job } from '../../shared/contracts/job.js';
import { tempDir, waitFor } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';

/** Logs a metric through the MLflow API, says so, then waits for the "go" file before it finishes. */
const SCRIPT = `
import { existsSync, writeFileSync } from 'node:fs';
const [go, out] = process.argv.slice(2);
const res = await fetch(process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow/runs/log-metric', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' },
  body: JSON.stringify({ run_id: process.env.MLFLOW_RUN_ID, key: 'before_kill', value: 42, timestamp: Date.now(), step: 0 }),
});
if (!res.ok) throw new Error('log-metric answered ' + res.status + ' ' + (await res.text()));
console.log('metric logged');
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 100));
writeFileSync(out + '/done.txt', 'done');
console.log('finished');
`;

describe('a job survives a SIGKILL of the host', () => {
  const hosts: HostProcess[] = [];
  after(async () => {
    for (const h of hosts) await h.stop('SIGKILL');
  });

  const start = async (dataDir: string) => {
    const host = await startHostProcess({ dataDir });
    hosts.push(host);
    const token = (JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { token: string }).token;
    const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(`${host.origin}/api/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    };
    const job = async (name: string) => (await api('GET', `workspaces/default/jobs/${name}`)) as Job;
    const log = async (name: string): Promise<string> => {
      const res = await fetch(`${host.origin}/api/workspaces/default/jobs/${name}/logs`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return res.text();
    };
    return { host, token, api, job, log };
  };

  /** Uploads the script as the job's code with the API a CLI uses, and submits the job. */
  const submit = async (h: Awaited<ReturnType<typeof start>>, go: string): Promise<string> => {
    const body = Buffer.from(SCRIPT);
    const path = `LocalUpload/crash-test-${Date.now()}/job.mjs`;
    const res = await fetch(`${h.host.origin}/api/workspaces/default/datastores/workspaceblobstore/paths/${path}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${h.token}`,
        'content-type': 'application/octet-stream',
      },
      body,
    });
    assert.ok(res.ok, `upload: ${res.status} ${await res.text()}`);
    const created = (await h.api('POST', 'workspaces/default/jobs', {
      code: `azureml://datastores/workspaceblobstore/paths/${path.replace(/job\.mjs$/, '')}`,
      command: `node job.mjs ${go} \${{outputs.result}}`,
      outputs: { result: { type: 'uri_folder' } },
      environment: { image: 'node:20' },
      experiment_name: 'crash',
    })) as Job;
    return created.name;
  };

  const metric = async (h: Awaited<ReturnType<typeof start>>, name: string): Promise<number | undefined> => {
    const run = (await h.api('GET', `workspaces/default/mlflow/api/2.0/mlflow/runs/get?run_id=${name}`)) as {
      run: { data: { metrics?: { key: string; value: number }[] } };
    };
    return run.run.data.metrics?.find((m) => m.key === 'before_kill')?.value;
  };

  for (const variant of ['the trainer keeps running', 'the trainer dies too'] as const) {
    it(`${variant}: after the restart the job completes and the metric is kept`, async () => {
      const dataDir = tempDir('job-crash');
      const go = join(tempDir('job-crash-go'), 'go');
      const first = await start(dataDir);
      const name = await submit(first, go);
      await waitFor(
        'the job to log its metric',
        async () => ((await first.log(name)).includes('metric logged') ? true : undefined),
        30_000,
      );
      assert.equal((await first.job(name)).status, 'Running');
      assert.equal(await metric(first, name), 42);

      let trainerPid: number | undefined;
      {
        const db = new Database(join(dataDir, 'compute.db'), { readonly: true });
        trainerPid = (db.prepare("SELECT pid FROM executions WHERE state = 'running'").get() as { pid: number }).pid;
        db.close();
      }
      await first.host.stop('SIGKILL');
      if (variant === 'the trainer dies too') process.kill(-trainerPid, 'SIGKILL');
      else writeFileSync(go, 'go');

      const second = await start(dataDir);
      if (variant === 'the trainer dies too') writeFileSync(go, 'go');
      const ended = await waitFor(
        'the job to end after the restart',
        async () => {
          const j = await second.job(name);
          return ['Completed', 'Failed', 'Canceled'].includes(j.status) ? j : undefined;
        },
        60_000,
      );
      assert.equal(ended.status, 'Completed', JSON.stringify(ended.error));
      assert.equal(ended.attempt, variant === 'the trainer dies too' ? 2 : 1);
      assert.equal(await metric(second, name), 42, 'the metric acknowledged before the kill is kept');
      assert.match(await second.log(name), /finished/);
      await second.host.stop('SIGTERM');
    });
  }
});

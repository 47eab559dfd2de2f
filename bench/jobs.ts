// npm run bench -- jobs [jobs=50] [runs=100000]
// Command jobs and tracking on a real host process (embedded default), each against a baseline
// measured in the same run on the same machine:
//  1. submit-to-Running latency of `jobs` jobs submitted one after another (from the job's status
//     history, and as a client polling every 5 ms sees it); baselines: starting `bash -c` and
//     starting `node` (the floor of any runner that starts a process per job);
//  2. throughput of `jobs` concurrent short jobs (`sleep 0.2`) on a compute with max_instances: 2;
//     baseline: the same commands run by a bare pool of two bash processes;
//  3. log-batch throughput through the MLflow REST API (1,000 metrics a batch); baseline: the same
//     batches written to a SQLite tracking store in this process, without HTTP;
//  4. runs/search latency over `runs` runs through the REST API (filter on a metric, ordered by it);
//     baseline: the same search through the tracking service in this process, without HTTP.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTrackingStore } from '../shared/adapters/sqlite-tracking-store.js';
import type { Job, JobList } from '../shared/contracts/job.js';
import { createTrackingService } from '../shared/services/tracking-service.js';
import { startHostProcess } from '../test/support/host-process.js';
import { bulkLoadRuns } from './support/bulk-runs.js';

const FILTER = 'metrics.acc > 0.5';
const ORDER = ['metrics.acc DESC'];

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { samples: sorted.length, medianMs: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(at(1)) };
}
const round = (n: number): number => Number(n.toFixed(2));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds from spawn to the first byte the process writes. */
function firstOutput(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', () => resolve(performance.now() - t0));
    child.once('error', reject);
  });
}

async function run(): Promise<void> {
  const jobCount = Number(process.argv[2] ?? 50);
  const runCount = Number(process.argv[3] ?? 100_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-jobs-'));
  const host = await startHostProcess({ dataDir, timeoutMs: 60_000 });
  try {
    const token = (JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { token: string }).token;
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${host.origin}/api/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const env = { image: 'python:3.11' };
    const job = (name: string) => api<Job>('GET', `workspaces/default/jobs/${name}`);
    const at = (j: Job, status: string) => j.statusHistory.find((h) => h.status === status)?.at;

    // 1. Submit-to-Running, one job at a time.
    await api('POST', 'workspaces/default/jobs', { command: 'echo warm-up', environment: env });
    await sleep(1500);
    const serverSide: number[] = [];
    const clientSide: number[] = [];
    for (let i = 0; i < jobCount; i++) {
      const t0 = performance.now();
      const created = await api<Job>('POST', 'workspaces/default/jobs', { command: 'echo hello', environment: env });
      let seen: Job = created;
      while (!['Running', 'Finalizing', 'Completed', 'Failed'].includes(seen.status)) {
        await sleep(5);
        seen = await job(created.name);
      }
      clientSide.push(performance.now() - t0);
      while (!['Completed', 'Failed', 'Canceled'].includes(seen.status)) {
        await sleep(20);
        seen = await job(created.name);
      }
      if (seen.status !== 'Completed') throw new Error(`job ${seen.name} ${seen.status}: ${seen.error?.message}`);
      serverSide.push((at(seen, 'Running') ?? NaN) - seen.createdAt);
    }
    const bashStart: number[] = [];
    const nodeStart: number[] = [];
    for (let i = 0; i < 20; i++) {
      bashStart.push(await firstOutput('/bin/bash', ['-c', 'echo started']));
      nodeStart.push(await firstOutput(process.execPath, ['-e', 'console.log("started")']));
    }

    // 2. Concurrent short jobs on a compute with max_instances: 2.
    await api('PUT', 'workspaces/default/computes/two-slots', {
      name: 'two-slots',
      type: 'amlcompute',
      size: 'Standard_DS3_v2',
      max_instances: 2,
    });
    const c0 = Date.now();
    const names = await Promise.all(
      Array.from({ length: jobCount }, async () => {
        const created = await api<Job>('POST', 'workspaces/default/jobs', {
          command: 'sleep 0.2',
          environment: env,
          compute: 'azureml:two-slots',
          experiment_name: 'concurrency',
        });
        return created.name;
      }),
    );
    let finished: Job[] = [];
    for (;;) {
      const page = await api<JobList>('GET', `workspaces/default/jobs?experiment=concurrency&limit=1000`);
      finished = page.value.filter((j) => ['Completed', 'Failed', 'Canceled'].includes(j.status));
      if (finished.length >= names.length) break;
      await sleep(50);
    }
    const failed = finished.filter((j) => j.status !== 'Completed');
    if (failed.length > 0) throw new Error(`${failed.length} concurrent jobs did not complete`);
    const concurrentSeconds = (Math.max(...finished.map((j) => j.endedAt ?? 0)) - c0) / 1000;
    const spans = finished.map((j) => [at(j, 'Running') ?? 0, at(j, 'Finalizing') ?? 0] as const);
    const maxParallel = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    const p0 = performance.now();
    const pool = [...names];
    await Promise.all(
      [0, 1].map(async () => {
        while (pool.pop() !== undefined) {
          await new Promise((r) => spawn('/bin/bash', ['-c', 'sleep 0.2'], { stdio: 'ignore' }).once('exit', r));
        }
      }),
    );
    const poolSeconds = (performance.now() - p0) / 1000;

    // 3. log-batch through the REST API.
    const mlflow = <T>(path: string, body: unknown) =>
      api<T>('POST', `workspaces/default/mlflow/api/2.0/mlflow/${path}`, body);
    const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name: 'bench' });
    const runId = (await mlflow<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id })).run.info
      .run_id;
    const batches = 100;
    const batch = (b: number) =>
      Array.from({ length: 1000 }, (_, i) => ({
        key: 'loss',
        value: 1 / (b * 1000 + i + 1),
        timestamp: i,
        step: b * 1000 + i,
      }));
    const l0 = performance.now();
    for (let b = 0; b < batches; b++) await mlflow('runs/log-batch', { run_id: runId, metrics: batch(b) });
    const httpSeconds = (performance.now() - l0) / 1000;
    const localDir = mkdtempSync(join(tmpdir(), 'tessera-bench-jobs-store-'));
    const localStore = SqliteTrackingStore.open(join(localDir, 'tracking.db'));
    const local = createTrackingService({ store: localStore, clock: { now: () => Date.now() } });
    const localExp = (await local.createExperiment('bench', { name: 'bench' })).experiment_id;
    const localRun = (await local.createRun('bench', { experiment_id: localExp })).run.info.run_id;
    const d0 = performance.now();
    for (let b = 0; b < batches; b++) await local.logBatch('bench', { run_id: localRun, metrics: batch(b) });
    const directSeconds = (performance.now() - d0) / 1000;

    // 4. runs/search over `runCount` runs, loaded into the host's own tracking database.
    const searchExp = (await mlflow<{ experiment_id: string }>('experiments/create', { name: 'search' })).experiment_id;
    bulkLoadRuns(join(dataDir, 'tracking.db'), 'default', Number(searchExp), runCount);
    const request = { experiment_ids: [searchExp], filter: FILTER, order_by: ORDER, max_results: 100 };
    const httpSearch: number[] = [];
    let firstPage: string[] = [];
    for (let i = 0; i < 33; i++) {
      const t0 = performance.now();
      const page = await mlflow<{ runs: { info: { run_id: string } }[] }>('runs/search', request);
      if (i >= 3) httpSearch.push(performance.now() - t0);
      firstPage = page.runs.map((r) => r.info.run_id);
    }
    const hostStore = SqliteTrackingStore.open(join(dataDir, 'tracking.db'));
    const hostTracking = createTrackingService({ store: hostStore, clock: { now: () => Date.now() } });
    const inProcess: number[] = [];
    for (let i = 0; i < 33; i++) {
      const t0 = performance.now();
      const page = await hostTracking.searchRuns('default', request);
      if (i >= 3) inProcess.push(performance.now() - t0);
      if (i === 0 && JSON.stringify(page.runs.map((r) => r.info.run_id)) !== JSON.stringify(firstPage)) {
        throw new Error('the REST search and the in-process search disagree');
      }
    }
    await hostStore.close();
    await localStore.close();
    rmSync(localDir, { recursive: true, force: true });

    const submit = stats(serverSide);
    const result = {
      benchmark: 'jobs',
      machine: { cpus: cpus().length, node: process.version },
      submitToRunning: {
        jobs: jobCount,
        command: 'echo hello (compute: local)',
        fromStatusHistory: submit,
        clientObserved: { ...stats(clientSide), pollMs: 5 },
        baselines: { bashSpawnToFirstOutput: stats(bashStart), nodeSpawnToFirstOutput: stats(nodeStart) },
        targetMedianMs: 300,
        meetsTarget: submit.medianMs < 300,
      },
      concurrentJobs: {
        jobs: jobCount,
        command: 'sleep 0.2',
        compute: 'amlcompute two-slots, max_instances: 2 (runs on this host)',
        seconds: round(concurrentSeconds),
        jobsPerSecond: round(jobCount / concurrentSeconds),
        maxRunningAtOnce: maxParallel,
        baseline: {
          what: 'the same commands through a bare pool of 2 bash processes',
          seconds: round(poolSeconds),
          jobsPerSecond: round(jobCount / poolSeconds),
        },
      },
      logBatch: {
        points: batches * 1000,
        batchSize: 1000,
        restPointsPerSecond: Math.round((batches * 1000) / httpSeconds),
        baseline: {
          what: 'the same batches through the tracking service in this process (no HTTP)',
          pointsPerSecond: Math.round((batches * 1000) / directSeconds),
        },
      },
      runsSearch: {
        runs: runCount,
        filter: FILTER,
        orderBy: ORDER,
        maxResults: 100,
        rest: stats(httpSearch),
        baseline: { what: 'the same search through the tracking service in this process', ...stats(inProcess) },
        targetMedianMs: 200,
        meetsTarget: stats(httpSearch).medianMs < 200,
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await host.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`bench jobs failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

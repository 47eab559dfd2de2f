// npm run bench -- serving [--duration 10] [--connections 1,64] [--threads 2] [--no-pipeline] [--peer]
//
// Online scoring throughput and latency. One model — an AutoML pipeline (featurizer + LightGBM-style
// boosting) trained on breast_cancer from ../shared/datasets (30 numeric columns; a synthetic
// stand-in when the datasets are absent), exported as model.onnx + manifest.json — served by:
//
//   baseline  a bare node:http server: JSON.parse, one onnxruntime-node Tensor per input, run, labels
//             (what a developer writes in an afternoon; no auth, no routing, no limits);
//   tessera   the platform itself: `node dist/local/main.js` on a fresh data folder, the endpoint and
//             its deployment created with the tessera CLI (key auth, request_settings sized for the
//             load: 64 in flight), requests to its scoring URI with the endpoint's key; as a user
//             runs it, with its default scoring replicas (TESSERA_SCORING_REPLICAS=auto: CPUs − 1);
//   tessera_one_process  the same host with TESSERA_SCORING_REPLICAS=0: every request in the
//             host's own process, as the baseline serves them;
//   tessera_functions_pipeline  the same host with TESSERA_DIRECT_HTTP=off: the scoring function
//             through the Functions invocation pipeline (@azure/functions request and response
//             objects), as the Function app runs it on Azure (left out with --no-pipeline).
//
// Each server runs in its own process; wrk (/usr/bin/wrk) drives it with the peer's Lua script
// (../shared/peers/score.lua) at each connection count, POSTing {"data": [[30 floats]]}. Then a
// traffic change under load: a second deployment (green, the same model), wrk at 64 connections for
// the run's duration while the CLI moves all traffic blue → green → blue ... every 0.5 s; every
// request must answer 200 (wrk counts non-2xx and socket errors). Also measured in-process: the
// scoring path per request (router.score, one row, sequential) and the model's own session.run.
// With --peer (and FastAPI + uvicorn in /usr/bin/python3, Debian's python3-fastapi and
// python3-uvicorn), the peer's server in its best configuration (../shared/peers/serve_sklearn.py,
// 2 uvicorn workers, OMP_NUM_THREADS=1) is measured in the same run with the same wrk too.
// Prints one JSON document with every figure, tessera/baseline ratios, and the peer's FastAPI figures
// (recorded in ../shared/peers/results/serving.json, and live with --peer).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
// eslint-disable-next-line no-restricted-imports -- the baseline is, by definition, bare onnxruntime-node
import type * as Ort from 'onnxruntime-node';
import { OnnxModelRuntime } from '../shared/adapters/onnx-runtime.js';
import { algorithmEntry } from '../shared/ml/automl/algorithms.js';
import { featurizeDataset, prepareDataset } from '../shared/ml/automl/dataset.js';
import { exportPipeline, toFloat32Values } from '../shared/ml/automl/pipeline.js';
import type { AutomlSettings, FittedPipeline, ModelManifest } from '../shared/ml/automl/types.js';
import { Rng } from '../shared/ml/rng.js';
import type { Column, Table } from '../shared/ml/types.js';
import { startHostProcess, type HostProcess } from '../test/support/host-process.js';
import { ScorerRegistry } from '../shared/serving/registry.js';
import { EndpointRouter } from '../shared/serving/router.js';
import type { ServingDeployment, ServingEndpoint } from '../shared/serving/types.js';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '../..');
const SHARED = resolve(ROOT, '../shared');
const WRK = '/usr/bin/wrk';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** breast_cancer's 30 numeric columns and target, or a synthetic table of the same shape. */
function trainingTable(): { table: Table; source: string } {
  const csv = join(SHARED, 'datasets/breast_cancer/data.csv');
  if (existsSync(csv)) {
    const [header, ...rows] = parseCsv(readFileSync(csv, 'utf8')) as string[][];
    if (header === undefined) throw new Error(`${csv} is empty`);
    const train = rows.slice(0, 455);
    const columns = header.map((name, j): Column =>
      name === 'target'
        ? { kind: 'categorical', name, values: train.map((r) => r[j] ?? null) }
        : { kind: 'numeric', name, values: Float64Array.from(train, (r) => Number(r[j])) },
    );
    return { table: { rows: train.length, columns }, source: 'breast_cancer (455 training rows)' };
  }
  const rng = new Rng(1);
  const n = 455;
  const columns: Column[] = Array.from({ length: 30 }, (_, j) => ({
    kind: 'numeric' as const,
    name: `f${j}`,
    values: Float64Array.from({ length: n }, () => rng.next()),
  }));
  const first = columns[0]?.values as Float64Array;
  columns.push({ kind: 'categorical', name: 'target', values: Array.from(first, (v) => (v > 0.5 ? '1' : '0')) });
  return { table: { rows: n, columns }, source: 'synthetic, 30 uniform columns (breast_cancer absent)' };
}

function buildModel(dir: string): { manifest: ModelManifest; row: number[]; source: string } {
  const { table, source } = trainingTable();
  const settings: AutomlSettings = {
    task: 'classification',
    targetColumn: 'target',
    primaryMetric: 'accuracy',
    validation: { kind: 'cv', folds: 3 },
    algorithms: [],
    enableVoteEnsemble: false,
    enableStackEnsemble: false,
    maxTrials: 1,
    maxConcurrentTrials: 1,
    earlyTermination: false,
    seed: 0,
    notices: [],
  };
  const data = prepareDataset(settings, table);
  const { featurizer, train } = featurizeDataset(data);
  const entry = algorithmEntry('classification', 'LightGBM');
  const params = { ...entry.defaults };
  const model = entry.fit(toFloat32Values(train), data.y, params, { seed: 0 });
  const pipeline: FittedPipeline = {
    task: 'classification',
    featurizer,
    head: { kind: 'single', config: { algorithm: 'LightGBM', params }, model },
    classes: data.classes ?? [],
  };
  const { onnx, manifest } = exportPipeline(pipeline, {
    target: 'target',
    primaryMetric: 'accuracy',
    featurization: data.featurization,
    trainingRows: table.rows,
  });
  writeFileSync(join(dir, 'model.onnx'), onnx);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const row = manifest.inputs.map((input) => {
    const column = table.columns.find((c) => c.name === input.column);
    return column?.kind === 'numeric' ? (column.values[0] as number) : 0;
  });
  return { manifest, row, source };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolveBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The baseline: what a developer writes in an afternoon with node:http and onnxruntime-node. */
async function serveBaseline(modelDir: string): Promise<number> {
  const ort = (await import('onnxruntime-node')) as typeof Ort;
  const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as ModelManifest;
  const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const names = manifest.inputs.map((i) => i.onnxName);
  const label = manifest.outputs.label ?? 'label';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then(async (body) => {
      try {
        const rows = (JSON.parse(body.toString('utf8')) as { data: number[][] }).data;
        const feeds: Record<string, Ort.Tensor> = {};
        names.forEach((name, j) => {
          feeds[name] = new ort.Tensor(
            'float32',
            Float32Array.from(rows, (r) => r[j] ?? NaN),
            [rows.length, 1],
          );
        });
        const out = await session.run(feeds, [label]);
        const text = JSON.stringify(Array.from(out[label]?.data as string[]));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      } catch (error) {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  return listen(server);
}

function tessera(modelDir: string): {
  router: EndpointRouter;
  registry: ScorerRegistry;
  deployment: ServingDeployment;
} {
  const endpoint: ServingEndpoint = { name: 'bench', traffic: { blue: 100 }, mirror_traffic: {}, revision: 1 };
  const deployment: ServingDeployment = {
    name: 'blue',
    endpoint_name: 'bench',
    revision: 1,
    kind: 'onnx',
    model_uri: modelDir,
    instance_count: 1,
    request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 64, max_queue_wait_ms: 500 },
    environment_variables: {},
  };
  const registry = new ScorerRegistry({ modelRuntime: new OnnxModelRuntime(), fetchFiles: async (uri) => uri });
  const found = { endpoint, deployments: [deployment] };
  const router = new EndpointRouter({
    directory: {
      lookup: () => found,
      verifyCaller: (_name, auth) => {
        if (auth !== 'Bearer bench-key') throw Object.assign(new Error('unauthorized'), { status: 401 });
      },
    },
    registry,
  });
  return { router, registry, deployment };
}

const CLI = resolve(ROOT, 'dist/cli/tessera.js');

/** The tessera CLI against the bench's host; resolves with stdout, throws with the output on failure. */
async function tesseraCli(dataDir: string, cwd: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, TESSERA_DATA_DIR: dataDir, TESSERA_TOKEN: '', TESSERA_ENDPOINT: '' },
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`tessera ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`);
  }
}

interface TesseraServer {
  host: HostProcess;
  port: number;
  key: string;
  dataDir: string;
  specs: string;
  stop: () => Promise<void>;
}

/**
 * A fresh host on its own data folder, with endpoint `bench` and deployment(s) of the model made by
 * the CLI as a user makes them; all traffic to blue.
 */
async function startTessera(
  modelDir: string,
  deployments: readonly string[],
  env: Record<string, string> = {},
): Promise<TesseraServer> {
  const root = mkdtempSync(join(tmpdir(), 'tessera-bench-serving-host-'));
  const dataDir = join(root, 'data');
  const specs = join(root, 'specs');
  mkdirSync(specs, { recursive: true });
  const host = await startHostProcess({ dataDir, env, timeoutMs: 60_000 });
  try {
    const replicas = env.TESSERA_SCORING_REPLICAS === '0' || env.TESSERA_DIRECT_HTTP === 'off' ? 0 : defaultReplicas();
    const end = Date.now() + 60_000;
    while ((host.output().match(/scoring replica \d+ \(pid \d+\) is serving/g) ?? []).length < replicas) {
      if (Date.now() > end) throw new Error(`the host's ${replicas} scoring replicas did not start:\n${host.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    writeFileSync(join(specs, 'endpoint.yml'), 'name: bench\nauth_mode: key\n');
    await tesseraCli(dataDir, specs, 'online-endpoint', 'create', '--file', 'endpoint.yml');
    for (const name of deployments) {
      writeFileSync(
        join(specs, `${name}.yml`),
        [
          `name: ${name}`,
          'endpoint_name: bench',
          'model:',
          `  path: ${modelDir}`,
          'instance_type: Standard_DS3_v2',
          'instance_count: 1',
          'request_settings:',
          '  max_concurrent_requests_per_instance: 64',
          '  max_queue_wait_ms: 500',
          '  request_timeout_ms: 5000',
          '',
        ].join('\n'),
      );
      const extra = name === deployments[0] ? ['--all-traffic'] : [];
      await tesseraCli(dataDir, specs, 'online-deployment', 'create', '--file', `${name}.yml`, ...extra);
    }
    const keys = JSON.parse(
      await tesseraCli(dataDir, specs, 'online-endpoint', 'get-credentials', '--name', 'bench'),
    ) as {
      primaryKey: string;
    };
    return {
      host,
      port: Number(new URL(host.origin).port),
      key: keys.primaryKey,
      dataDir,
      specs,
      stop: async () => void (await host.stop('SIGKILL')),
    };
  } catch (error) {
    await host.stop('SIGKILL');
    throw error;
  }
}

const SCORE_PATH = '/api/endpoints/bench/score';

/** The host's scoring replicas with TESSERA_SCORING_REPLICAS=auto (shared/config.ts). */
function defaultReplicas(): number {
  return Math.max(0, Math.min(availableParallelism(), 4) - 1);
}

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  server.keepAliveTimeout = 60_000;
  return new Promise((resolvePort) =>
    server.listen(0, '127.0.0.1', () => resolvePort((server.address() as AddressInfo).port)),
  );
}

/** Scoring path in-process: router.score on a one-row body, sequentially; microseconds per request. */
async function inProcess(modelDir: string, body: Buffer): Promise<Record<string, number>> {
  const { router, registry, deployment } = tessera(modelDir);
  await registry.provision(deployment);
  const req = { body, headers: { authorization: 'Bearer bench-key' } };
  for (let i = 0; i < 2000; i++) await router.score('bench', req);
  const samples: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const t0 = performance.now();
    const res = await router.score('bench', req);
    samples.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`in-process scoring answered ${res.status}: ${res.body.toString()}`);
  }
  samples.sort((a, b) => a - b);
  const live = registry.get('bench', 'blue');
  const session = (live?.scorer as unknown as { session: { run: (f: unknown) => Promise<unknown> } }).session;
  const parser = (live?.scorer as unknown as { parser: { parse: (b: Buffer) => { ok: boolean; feeds: unknown } } })
    .parser;
  const parsed = parser.parse(body);
  const runOnly: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const t0 = performance.now();
    await session.run(parsed.feeds);
    runOnly.push(performance.now() - t0);
  }
  runOnly.sort((a, b) => a - b);
  const t0 = performance.now();
  for (let i = 0; i < 20_000; i++) parser.parse(body);
  const parseUs = ((performance.now() - t0) / 20_000) * 1000;
  await registry.close();
  const us = (xs: number[], q: number) => Number(((xs[Math.floor(q * xs.length)] ?? NaN) * 1000).toFixed(1));
  return {
    router_score_p50_us: us(samples, 0.5),
    router_score_p99_us: us(samples, 0.99),
    session_run_p50_us: us(runOnly, 0.5),
    parse_body_mean_us: Number(parseUs.toFixed(2)),
  };
}

interface Target {
  port: number;
  path: string;
  /** The Authorization header value, if the server checks one. */
  auth?: string;
}

async function wrk(target: Target, connections: number, threads: number, duration: number, bodyFile: string) {
  const { stdout } = await run(
    WRK,
    [
      `-t${Math.min(threads, connections)}`,
      `-c${connections}`,
      `-d${duration}s`,
      '--latency',
      ...(target.auth === undefined ? [] : ['-H', `Authorization: ${target.auth}`]),
      '-s',
      join(SHARED, 'peers/score.lua'),
      `http://127.0.0.1:${target.port}${target.path}`,
    ],
    { env: { ...process.env, BODY_FILE: bodyFile } },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
  return { connections, ...(JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>) };
}

/** The peer's FastAPI server, best configuration, until it answers /score; stop() ends it. */
async function startPeer(bodyFile: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const script = join(SHARED, 'peers/serve_sklearn.py');
  const port = await new Promise<number>((resolvePort) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolvePort(p));
    });
  });
  const proc = spawn('/usr/bin/python3', [script, '--port', String(port), '--workers', '2'], {
    cwd: join(SHARED, 'peers'),
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  const body = readFileSync(bodyFile);
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`the peer server exited: ${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/score`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { port, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`the peer server did not answer within 30 s: ${log}`);
}

/** Starts the baseline server in a child process; resolves with its port and a stop function. */
function childBaseline(modelDir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', 'baseline', modelDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveChild, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      const m = /PORT (\d+)/.exec(chunk.toString());
      if (m !== null) resolveChild({ port: Number(m[1]), stop: async () => void proc.kill('SIGKILL') });
    });
    proc.once('exit', (code) => reject(new Error(`baseline server exited with ${code}`)));
  });
}

type Measured = Record<string, number>;

/** wrk at each connection count after a short warm-up. */
async function measure(
  target: Target,
  connectionCounts: readonly number[],
  threads: number,
  duration: number,
  bodyFile: string,
): Promise<Measured[]> {
  await wrk(target, 4, 1, 1, bodyFile); // warm-up
  const out: Measured[] = [];
  for (const connections of connectionCounts) out.push(await wrk(target, connections, threads, duration, bodyFile));
  return out;
}

/**
 * wrk at 64 connections for `duration` seconds while the CLI moves all traffic between blue and
 * green every 0.5 s; the answer of every request must be a 200.
 */
async function trafficChangeUnderLoad(modelDir: string, threads: number, duration: number, bodyFile: string) {
  const server = await startTessera(modelDir, ['blue', 'green']);
  try {
    const target = { port: server.port, path: SCORE_PATH, auth: `Bearer ${server.key}` };
    await wrk(target, 4, 1, 1, bodyFile); // warm-up
    const load = wrk(target, 64, threads, duration, bodyFile);
    let flips = 0;
    let stop = false;
    const flipping = (async () => {
      const end = Date.now() + (duration - 1) * 1000;
      while (!stop && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 500));
        const to = flips % 2 === 0 ? 'blue=0 green=100' : 'blue=100 green=0';
        await tesseraCli(server.dataDir, server.specs, 'online-endpoint', 'update', '--name', 'bench', '--traffic', to);
        flips++;
      }
    })();
    const result = await load;
    stop = true;
    await flipping;
    return { traffic_changes: flips, ...result };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const serveIndex = process.argv.indexOf('--serve');
  if (serveIndex >= 0) {
    const port = await serveBaseline(process.argv[serveIndex + 2] ?? '');
    process.stdout.write(`PORT ${port}\n`);
    return;
  }
  if (!existsSync(WRK)) throw new Error(`${WRK} is not installed`);
  const duration = Number(arg('duration', '10'));
  const connectionCounts = arg('connections', '1,64').split(',').map(Number);
  const threads = Number(arg('threads', '2'));
  const pipeline = !process.argv.includes('--no-pipeline');
  const modelDir = mkdtempSync(join(tmpdir(), 'tessera-bench-serving-'));
  const { manifest, row, source } = buildModel(modelDir);
  const body = JSON.stringify({ data: [row] });
  const bodyFile = join(modelDir, 'body.json');
  writeFileSync(bodyFile, body);

  const inproc = await inProcess(modelDir, Buffer.from(body));
  const http: Record<string, Measured[]> = {};
  const baseline = await childBaseline(modelDir);
  try {
    http['baseline'] = await measure(
      { port: baseline.port, path: '/score' },
      connectionCounts,
      threads,
      duration,
      bodyFile,
    );
  } finally {
    await baseline.stop();
  }
  const variants: [string, Record<string, string>][] = [
    ['tessera', {}],
    ['tessera_one_process', { TESSERA_SCORING_REPLICAS: '0' }],
  ];
  if (pipeline) variants.push(['tessera_functions_pipeline', { TESSERA_DIRECT_HTTP: 'off' }]);
  for (const [name, env] of variants) {
    const server = await startTessera(modelDir, ['blue'], env);
    try {
      const target = { port: server.port, path: SCORE_PATH, auth: `Bearer ${server.key}` };
      http[name] = await measure(target, connectionCounts, threads, duration, bodyFile);
    } finally {
      await server.stop();
    }
  }
  const trafficChange = await trafficChangeUnderLoad(modelDir, threads, duration, bodyFile);
  let peerLive: Measured | undefined;
  if (process.argv.includes('--peer')) {
    const peerServer = await startPeer(bodyFile);
    try {
      const target = { port: peerServer.port, path: '/score' };
      await wrk(target, 16, 2, 3, bodyFile); // warm-up, reaches both workers
      peerLive = await wrk(target, 64, threads, duration, bodyFile);
    } finally {
      await peerServer.stop();
    }
  }

  const ratios = connectionCounts.map((c, i) => {
    const b = http['baseline']?.[i] as Measured;
    const t = http['tessera']?.[i] as Measured;
    return {
      connections: c,
      tessera_over_baseline_rps: Number(((t.requests_per_s ?? 0) / (b.requests_per_s ?? 1)).toFixed(3)),
      tessera_p50_ms: t.latency_p50_ms,
      baseline_p50_ms: b.latency_p50_ms,
    };
  });
  const peerFile = join(SHARED, 'peers/results/serving.json');
  const peer = existsSync(peerFile) ? (JSON.parse(readFileSync(peerFile, 'utf8')) as { http?: unknown[] }) : undefined;
  const peerBest = Math.max(
    0,
    ...((peer?.http ?? []) as { connections?: number; requests_per_s?: number }[])
      .filter((r) => r.connections === 64)
      .map((r) => r.requests_per_s ?? 0),
  );
  const at64 = http['tessera']?.[connectionCounts.indexOf(64)];
  console.log(
    JSON.stringify(
      {
        benchmark: 'serving',
        model: `AutoML pipeline, ${manifest.algorithm} on ${source}; ${manifest.inputs.length} inputs`,
        request: '{"data": [[one row]]}',
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
        tessera_scoring_replicas: defaultReplicas(),
        duration_s: duration,
        in_process: inproc,
        http,
        ratios,
        traffic_change_under_load: trafficChange,
        peer_fastapi_best_rps: peerBest,
        ...(peerLive === undefined
          ? {}
          : {
              peer_fastapi_live_best_config_at_64: peerLive,
              tessera_over_peer_live_at_64:
                at64 === undefined
                  ? null
                  : Number(((at64.requests_per_s ?? 0) / (peerLive.requests_per_s ?? 1)).toFixed(2)),
            }),
        tessera_over_peer_best_at_64:
          at64 === undefined || peerBest === 0 ? null : Number(((at64.requests_per_s ?? 0) / peerBest).toFixed(2)),
        targets: { rps_ratio_at_64: 0.7, over_peer_best_at_64: 6, p50_ms_at_1: 1, errors: 0 },
        peer_fastapi: peer?.http,
      },
      null,
      2,
    ),
  );
}

await main();

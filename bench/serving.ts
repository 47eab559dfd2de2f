// npm run bench -- serving [--duration 10] [--connections 1,64] [--threads 2]
//
// Online scoring throughput and latency. One model — an AutoML pipeline (featurizer + LightGBM-style
// boosting) trained on breast_cancer from ../shared/datasets (30 numeric columns; a synthetic
// stand-in when the datasets are absent), exported as model.onnx + manifest.json — served by:
//
//   baseline  a bare node:http server: JSON.parse, one onnxruntime-node Tensor per input, run, labels;
//   tessera   node:http in front of shared/serving (router → registry → gate → ONNX scorer → stats),
//             with the request_settings of a deployment sized for the load (64 in flight).
//
// Each server runs in its own child process; wrk (/usr/bin/wrk) drives it with the peer's Lua script
// (../shared/peers/score.lua) at each connection count, POSTing {"data": [[30 floats]]}. Also
// measured in-process: the scoring path per request (router.score, one row, sequential). Prints one
// JSON document with both servers' figures, tessera/baseline ratios, and the peer's FastAPI figures.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
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

async function serveTessera(modelDir: string): Promise<number> {
  const { router, registry, deployment } = tessera(modelDir);
  const provisioned = await registry.provision(deployment);
  if (!provisioned.ok) throw new Error(provisioned.reason);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then(async (body) => {
      const headers: Record<string, string | undefined> = {
        authorization: 'Bearer bench-key', // the key check is the management plane's; a constant here
        'azureml-model-deployment': req.headers['azureml-model-deployment'] as string | undefined,
      };
      const answer = await router.score('bench', { body, headers });
      const out: Record<string, string | number> = {
        'Content-Type': answer.contentType,
        'Content-Length': Buffer.byteLength(answer.body),
      };
      if (answer.headers !== undefined) Object.assign(out, answer.headers);
      res.writeHead(answer.status, out);
      res.end(answer.body);
    });
  });
  return listen(server);
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

async function wrk(port: number, connections: number, threads: number, duration: number, bodyFile: string) {
  const { stdout } = await run(
    WRK,
    [
      `-t${Math.min(threads, connections)}`,
      `-c${connections}`,
      `-d${duration}s`,
      '-s',
      join(SHARED, 'peers/score.lua'),
      `http://127.0.0.1:${port}/score`,
    ],
    { env: { ...process.env, BODY_FILE: bodyFile } },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
  return { connections, ...(JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>) };
}

/** Starts `which` server in a child process; resolves with its port and a stop function. */
function child(which: string, modelDir: string): Promise<{ port: number; stop: () => void }> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', which, modelDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveChild, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      const m = /PORT (\d+)/.exec(chunk.toString());
      if (m !== null) resolveChild({ port: Number(m[1]), stop: () => proc.kill('SIGKILL') });
    });
    proc.once('exit', (code) => reject(new Error(`${which} server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const serveIndex = process.argv.indexOf('--serve');
  if (serveIndex >= 0) {
    const which = process.argv[serveIndex + 1];
    const dir = process.argv[serveIndex + 2] ?? '';
    const port = which === 'baseline' ? await serveBaseline(dir) : await serveTessera(dir);
    process.stdout.write(`PORT ${port}\n`);
    return;
  }
  if (!existsSync(WRK)) throw new Error(`${WRK} is not installed`);
  const duration = Number(arg('duration', '10'));
  const connectionCounts = arg('connections', '1,64').split(',').map(Number);
  const threads = Number(arg('threads', '2'));
  const modelDir = mkdtempSync(join(tmpdir(), 'tessera-bench-serving-'));
  const { manifest, row, source } = buildModel(modelDir);
  const body = JSON.stringify({ data: [row] });
  const bodyFile = join(modelDir, 'body.json');
  writeFileSync(bodyFile, body);

  const inproc = await inProcess(modelDir, Buffer.from(body));
  const http: Record<string, unknown[]> = { baseline: [], tessera: [] };
  for (const connections of connectionCounts) {
    for (const which of ['baseline', 'tessera'] as const) {
      const server = await child(which, modelDir);
      try {
        await wrk(server.port, Math.min(connections, 4), 1, 1, bodyFile); // warm-up
        http[which]?.push(await wrk(server.port, connections, threads, duration, bodyFile));
      } finally {
        server.stop();
      }
    }
  }
  const ratios = connectionCounts.map((c, i) => {
    const b = http['baseline']?.[i] as { requests_per_s: number; latency_p50_ms: number };
    const t = http['tessera']?.[i] as { requests_per_s: number; latency_p50_ms: number };
    return {
      connections: c,
      tessera_over_baseline_rps: Number((t.requests_per_s / b.requests_per_s).toFixed(3)),
      tessera_p50_ms: t.latency_p50_ms,
      baseline_p50_ms: b.latency_p50_ms,
    };
  });
  const peerFile = join(SHARED, 'peers/results/serving.json');
  const peer = existsSync(peerFile) ? (JSON.parse(readFileSync(peerFile, 'utf8')) as { http?: unknown[] }) : undefined;
  console.log(
    JSON.stringify(
      {
        benchmark: 'serving',
        model: `AutoML pipeline, ${manifest.algorithm} on ${source}; ${manifest.inputs.length} inputs`,
        request: '{"data": [[one row]]}',
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
        duration_s: duration,
        in_process: inproc,
        http,
        ratios,
        targets: { rps_ratio_at_64: 0.7, p50_ms_at_1: 1 },
        peer_fastapi: peer?.http,
      },
      null,
      2,
    ),
  );
}

await main();

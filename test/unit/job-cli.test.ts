import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../shared/contracts/job.js';
import { JOB_STATUS_HEADER, LOG_NEXT_OFFSET_HEADER } from '../../shared/contracts/job.js';
import { MLClient } from '../../cli/sdk/ml-client.js';
import { runCli } from '../../cli/tessera.js';

// `tessera job ...` and `tessera model create --path` against a fake host: `io.fetch` answers the
// REST API in-process and records what the CLI sent, uploads included.

interface Seen {
  method: string;
  /** Decoded path after /api/. */
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: Buffer | undefined;
}

type Handler = (req: Seen) => Response | undefined;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/**
 * A fake Tessera host: datastore paths (upload, HEAD, GET, file listing) are served from `blobs`;
 * everything else goes to `handler`, and what it does not answer is a 404.
 */
class FakeHost {
  readonly seen: Seen[] = [];
  /** `<datastore>/<path>` to bytes. */
  readonly blobs = new Map<string, Buffer>();
  handler: Handler = () => undefined;
  /** When set, every file listing answers these entries instead of what `blobs` holds. */
  listing: string[] | undefined;

  readonly fetch: typeof fetch = async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = url.pathname
      .replace(/^\/api\//, '')
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/');
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : Buffer.from(await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
    const req: Seen = {
      method: init.method ?? 'GET',
      path,
      query: url.searchParams,
      headers: new Headers(init.headers),
      body,
    };
    this.seen.push(req);
    return (
      this.datastore(req) ?? this.handler(req) ?? json(404, { error: { code: 'NotFound', message: `no ${path}` } })
    );
  };

  private datastore(req: Seen): Response | undefined {
    const files = /^workspaces\/[^/]+\/datastores\/([^/]+)\/files$/.exec(req.path);
    if (files !== null && req.method === 'GET') {
      const prefix = `${files[1]}/${req.query.get('prefix') ?? ''}`;
      if (this.listing !== undefined) return json(200, { folder: prefix, files: this.listing });
      const listed = [...this.blobs.keys()]
        .filter((k) => k.startsWith(prefix))
        .map((k) => `azureml://datastores/${k.replace('/', '/paths/')}`);
      return json(200, { folder: prefix, files: listed });
    }
    const m = /^workspaces\/[^/]+\/datastores\/([^/]+)\/paths\/(.+)$/.exec(req.path);
    if (m === null) return undefined;
    const key = `${m[1]}/${m[2]}`;
    const stored = this.blobs.get(key);
    switch (req.method) {
      case 'HEAD':
        return stored === undefined
          ? new Response(null, { status: 404 })
          : new Response(null, { status: 200, headers: { 'x-content-sha256': sha256(stored) } });
      case 'PUT':
        if (req.headers.get('x-tessera-copy') === 'by-hash')
          return json(404, { error: { code: 'NotFound', message: '' } });
        this.blobs.set(key, req.body ?? Buffer.alloc(0));
        return json(201, {});
      case 'GET':
        return stored === undefined ? undefined : new Response(stored, { status: 200 });
      default:
        return undefined;
    }
  }

  /** Requests other than HEAD/PUT/GET of datastore paths and listings. */
  apiCalls(): Seen[] {
    return this.seen.filter((r) => !/^workspaces\/[^/]+\/datastores\//.test(r.path));
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function jobOf(overrides: Partial<Job> = {}): Job {
  return {
    name: 'j1',
    workspace: 'default',
    type: 'command',
    experiment_name: 'exp',
    tags: {},
    status: 'Queued',
    compute: 'local',
    spec: {},
    statusHistory: [],
    createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    notices: [],
    outputs: {},
    artifacts_uri: 'azureml://datastores/workspaceartifactstore/paths/ExperimentRun/dcid.j1/',
    mlflow: { run_id: 'r1', experiment_id: '1', tracking_uri: 'http://fake/api/workspaces/default/mlflow' },
    attempt: 1,
    archived: false,
    ...overrides,
  };
}

let dir: string;
let dataDir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-job-cli-'));
  dataDir = join(dir, '.tessera');
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'train.py'), 'print("hi")\n');
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'rows.csv'), 'a,b\n1,2\n');
  await writeFile(
    join(dir, 'job.yml'),
    [
      '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
      'type: command',
      'code: ./src',
      'command: python train.py --data ${{inputs.training}} --lr ${{inputs.lr}}',
      'inputs:',
      '  training:',
      '    type: uri_file',
      '    path: ./data/rows.csv',
      '  remote:',
      '    type: uri_folder',
      '    path: azureml://datastores/workspaceblobstore/paths/shared/',
      '  lr: 0.1',
      'outputs:',
      '  model:',
      '    type: uri_folder',
      'environment: azureml:sklearn-env:1',
      'compute: local',
      'experiment_name: exp',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'missing.yml'),
    'command: echo hi\ncode: ./src\nenvironment: azureml:env:1\ninputs:\n  training:\n    type: uri_file\n    path: ./data/nope.csv\n',
  );
  await writeFile(
    join(dir, 'pipeline.yml'),
    'type: pipeline\njobs:\n  a:\n    type: command\n    command: echo hi\n    environment: azureml:env:1\n',
  );
  await writeFile(
    join(dir, 'sweep.yml'),
    [
      'type: sweep',
      'trial:',
      '  command: python train.py --lr ${{search_space.lr}}',
      '  code: ./src',
      '  environment: azureml:env:1',
      'search_space:',
      '  lr: {type: uniform, min_value: 0.01, max_value: 0.1}',
      'objective: {goal: maximize, primary_metric: acc}',
      'sampling_algorithm: random',
      'limits: {max_total_trials: 2}',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'automl.yml'),
    'type: automl\ntask: classification\ntarget_column_name: y\ntraining_data:\n  type: mltable\n  path: ./data\nprimary_metric: accuracy\n',
  );
  await writeFile(join(dir, 'data.yml'), 'name: d\ntype: uri_file\npath: ./data/rows.csv\n');
  await mkdir(join(dir, 'weights', 'nested'), { recursive: true });
  await writeFile(join(dir, 'weights', 'w.bin'), Buffer.from([1, 2, 3]));
  await writeFile(join(dir, 'weights', 'nested', 'c.json'), '{}');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(host: FakeHost, ...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...args, '--endpoint', 'http://fake', '--token', 'tsr_t', '--data-dir', dataDir], {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    fetch: host.fetch,
    pollMs: 1,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Answers POST jobs with a Queued job built from the body. */
function acceptJobs(host: FakeHost, extra: Handler = () => undefined): void {
  host.handler = (req) => {
    if (req.method === 'POST' && req.path === 'workspaces/default/jobs') {
      const spec = JSON.parse(req.body?.toString() ?? '{}') as Record<string, unknown>;
      return json(201, jobOf({ name: typeof spec.name === 'string' ? spec.name : 'gen-1', spec }));
    }
    return extra(req);
  };
}

const UPLOAD_URI = /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{64}\//;

test('job create uploads the code folder and local inputs, then posts the spec with their URIs', async () => {
  const host = new FakeHost();
  acceptJobs(host);
  const r = await cli(host, 'job', 'create', '--file', join(dir, 'job.yml'));
  assert.equal(r.code, 0, r.stderr);
  const posts = host.apiCalls();
  assert.equal(posts.length, 1);
  const post = posts[0];
  assert.equal(post?.method, 'POST');
  assert.equal(post?.path, 'workspaces/default/jobs');
  assert.equal(post?.headers.get('authorization'), 'Bearer tsr_t');
  const body = JSON.parse(post?.body?.toString() ?? '') as {
    code: string;
    inputs: { training: { path: string }; remote: { path: string }; lr: number };
    [k: string]: unknown;
  };
  assert.match(body.code, UPLOAD_URI);
  assert.ok(body.code.endsWith('/src/'), body.code);
  assert.match(body.inputs.training.path, UPLOAD_URI);
  assert.ok(body.inputs.training.path.endsWith('/rows.csv'), body.inputs.training.path);
  assert.equal(body.inputs.remote.path, 'azureml://datastores/workspaceblobstore/paths/shared/', 'URIs are kept');
  assert.equal(body.inputs.lr, 0.1);
  assert.equal(body.command, 'python train.py --data ${{inputs.training}} --lr ${{inputs.lr}}');
  assert.equal(body.environment, 'azureml:sklearn-env:1');
  assert.equal(body.type, 'command');
  assert.ok(!('$schema' in body));
  assert.ok(!('name' in body), 'the server names the job');
  // The uploaded bytes are the files, at the paths the URIs name; the POST comes after them.
  const codePath = body.code.replace('azureml://datastores/workspaceblobstore/paths/', 'workspaceblobstore/');
  assert.equal(host.blobs.get(`${codePath}train.py`)?.toString(), 'print("hi")\n');
  const inputPath = body.inputs.training.path.replace(
    'azureml://datastores/workspaceblobstore/paths/',
    'workspaceblobstore/',
  );
  assert.equal(host.blobs.get(inputPath)?.toString(), 'a,b\n1,2\n');
  assert.equal(host.seen.at(-1), post);
  assert.equal((JSON.parse(r.stdout) as Job).name, 'gen-1');

  // The same content is not sent again.
  const again = new FakeHost();
  for (const [k, v] of host.blobs) again.blobs.set(k, v);
  acceptJobs(again);
  assert.equal((await cli(again, 'job', 'create', '--file', join(dir, 'job.yml'))).code, 0);
  assert.equal(again.seen.filter((s) => s.method === 'PUT').length, 0);
});

test('job create --name and --set override the spec; -o table prints one line', async () => {
  const host = new FakeHost();
  acceptJobs(host);
  const r = await cli(
    host,
    'job',
    'create',
    '--file',
    join(dir, 'job.yml'),
    '--name',
    'run-7',
    '--set',
    'experiment_name=other',
    '--set',
    'inputs.lr=0.5',
    '-o',
    'table',
  );
  assert.equal(r.code, 0, r.stderr);
  const body = JSON.parse(host.apiCalls()[0]?.body?.toString() ?? '') as {
    name: string;
    experiment_name: string;
    inputs: { lr: number };
  };
  assert.equal(body.name, 'run-7');
  assert.equal(body.experiment_name, 'other');
  assert.equal(body.inputs.lr, 0.5);
  assert.equal(r.stdout, 'Job run-7 Queued (experiment exp, compute local)\n');
});

test('job create refuses a missing local path before uploading anything', async () => {
  const host = new FakeHost();
  acceptJobs(host);
  const r = await cli(host, 'job', 'create', '--file', join(dir, 'missing.yml'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.yml: inputs\.training\.path: the local path .*nope\.csv does not exist/);
  assert.deepEqual(host.seen, [], 'not even the code folder was uploaded');
});

test('job create refuses pipeline jobs (AutoML jobs are accepted), and other kinds of spec', async () => {
  for (const kind of ['pipeline']) {
    const host = new FakeHost();
    acceptJobs(host);
    const r = await cli(host, 'job', 'create', '--file', join(dir, `${kind}.yml`));
    assert.equal(r.code, 1, kind);
    assert.match(r.stderr, new RegExp(`${kind}\\.yml: type: ${kind} jobs are not supported by tessera job create yet`));
    assert.deepEqual(host.seen, [], `${kind}: nothing sent`);
  }
  const host = new FakeHost();
  const data = await cli(host, 'job', 'create', '--file', join(dir, 'data.yml'));
  assert.equal(data.code, 1);
  assert.match(data.stderr, /data\.yml: type: type "uri_file" makes this a data asset spec, but a job was asked for/);
  assert.equal((await cli(host, 'job', 'create')).code, 2);
  assert.deepEqual(host.seen, []);
});

/** Serves a log in pieces: each entry is what one read from its offset returns. */
function logScript(pieces: { bytes: Buffer; status: Job['status'] }[], final: Partial<Job>): Handler {
  let offset = 0;
  let i = 0;
  return (req) => {
    if (req.path === 'workspaces/default/jobs/j1/logs') {
      assert.equal(Number(req.query.get('offset')), offset, 'each read starts where the last ended');
      const piece = pieces[Math.min(i++, pieces.length - 1)] ?? { bytes: Buffer.alloc(0), status: 'Running' };
      const bytes = i > pieces.length ? Buffer.alloc(0) : piece.bytes;
      offset += bytes.byteLength;
      return new Response(bytes, {
        status: 200,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          [LOG_NEXT_OFFSET_HEADER]: String(offset),
          [JOB_STATUS_HEADER]: piece.status,
        },
      });
    }
    if (req.method === 'GET' && req.path === 'workspaces/default/jobs/j1') return json(200, jobOf(final));
    return undefined;
  };
}

test('job stream prints the log in order across polls and exits 0 when the job completed', async () => {
  const host = new FakeHost();
  const e = Buffer.from('é');
  host.handler = logScript(
    [
      { bytes: Buffer.from('line 1\n'), status: 'Queued' },
      { bytes: Buffer.alloc(0), status: 'Running' },
      // A character split across two reads is printed whole.
      { bytes: Buffer.concat([Buffer.from('line 2 caf'), e.subarray(0, 1)]), status: 'Running' },
      { bytes: Buffer.concat([e.subarray(1), Buffer.from('\n')]), status: 'Running' },
      // Terminal, but more to read: read on until a read brings nothing.
      { bytes: Buffer.from('line 3\n'), status: 'Completed' },
      { bytes: Buffer.from('line 4\n'), status: 'Completed' },
    ],
    { status: 'Completed' },
  );
  const r = await cli(host, 'job', 'stream', '-n', 'j1');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'line 1\nline 2 café\nline 3\nline 4\n');
  assert.equal(r.stderr, 'Job j1 Completed\n');
});

test('job stream exits 1 with the error when the job failed, and 1 when it was canceled', async () => {
  const host = new FakeHost();
  host.handler = logScript(
    [
      { bytes: Buffer.from('Traceback...\n'), status: 'Running' },
      { bytes: Buffer.alloc(0), status: 'Failed' },
    ],
    { status: 'Failed', error: { code: 'UserError', message: 'The command exited with code 1.' } },
  );
  const r = await cli(host, 'job', 'stream', '-n', 'j1');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'Traceback...\n');
  assert.equal(r.stderr, 'Job j1 Failed: The command exited with code 1. (UserError)\n');

  const canceled = new FakeHost();
  canceled.handler = logScript([{ bytes: Buffer.alloc(0), status: 'Canceled' }], { status: 'Canceled' });
  const c = await cli(canceled, 'job', 'stream', '-n', 'j1');
  assert.equal(c.code, 1);
  assert.equal(c.stderr, 'Job j1 Canceled\n');

  const missing = await cli(new FakeHost(), 'job', 'stream', '-n', 'j1');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NotFound/);
});

test('job create --stream submits, then follows the log; the exit code follows the outcome', async () => {
  const host = new FakeHost();
  const script = logScript(
    [
      { bytes: Buffer.from('training\n'), status: 'Running' },
      { bytes: Buffer.from('done\n'), status: 'Completed' },
    ],
    { status: 'Completed' },
  );
  acceptJobs(host, script);
  const r = await cli(host, 'job', 'create', '--file', join(dir, 'job.yml'), '--name', 'j1', '--stream');
  assert.equal(r.code, 0, r.stderr);
  const printed = r.stdout.indexOf('training\ndone\n');
  assert.ok(printed > 0, r.stdout);
  assert.equal((JSON.parse(r.stdout.slice(0, printed)) as Job).name, 'j1');
  assert.equal(r.stderr, 'Job j1 Completed\n');

  const failing = new FakeHost();
  acceptJobs(failing, logScript([{ bytes: Buffer.alloc(0), status: 'Failed' }], { status: 'Failed' }));
  const f = await cli(failing, 'job', 'create', '--file', join(dir, 'job.yml'), '--name', 'j1', '--stream');
  assert.equal(f.code, 1);
  assert.equal(f.stderr, 'Job j1 Failed\n');
});

test('the SDK stream stops when its signal is aborted', async () => {
  const host = new FakeHost();
  host.handler = logScript([{ bytes: Buffer.from('x'), status: 'Running' }], {});
  const client = new MLClient({ endpoint: 'http://fake', fetch: host.fetch });
  const controller = new AbortController();
  const texts: string[] = [];
  const streaming = client.jobs.stream('j1', {
    pollMs: 5,
    signal: controller.signal,
    onText: (t) => {
      texts.push(t);
      controller.abort(new Error('stop'));
    },
  });
  await assert.rejects(streaming, /stop/);
  assert.deepEqual(texts, ['x']);
  await assert.rejects(client.jobs.stream('j1', { pollMs: -1 }), RangeError);
});

test('job list sends the filters as a query string and prints a table', async () => {
  const host = new FakeHost();
  host.handler = (req) =>
    req.path === 'workspaces/default/jobs'
      ? json(200, { value: [jobOf({ status: 'Failed' })], continuation: 'next-page' })
      : undefined;
  const r = await cli(
    host,
    'job',
    'list',
    '--experiment',
    'exp',
    '--status',
    'failed',
    '--archived',
    'all',
    '--limit',
    '5',
    '--continuation',
    'abc',
    '-o',
    'table',
  );
  assert.equal(r.code, 0, r.stderr);
  const sent = host.seen[0];
  assert.equal(sent?.method, 'GET');
  assert.deepEqual(Object.fromEntries(sent?.query ?? []), {
    experiment: 'exp',
    status: 'Failed',
    archived: 'all',
    limit: '5',
    continuation: 'abc',
  });
  const lines = r.stdout.split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+STATUS\s+EXPERIMENT_NAME\s+COMPUTE\s+CREATEDAT$/);
  assert.match(lines[2] ?? '', /^j1\s+Failed\s+exp\s+local\s+2026-01-02T03:04:05\.000Z$/);
  assert.match(r.stdout, /--continuation next-page/);

  const plain = new FakeHost();
  plain.handler = host.handler;
  assert.equal((await cli(plain, 'job', 'list')).code, 0);
  assert.equal(plain.seen[0]?.query.toString(), '');
  assert.equal((await cli(plain, 'job', 'list', '--status', 'sleeping')).code, 2);
  assert.equal((await cli(plain, 'job', 'list', '--limit', '0')).code, 2);
});

test('job show, cancel, archive and restore call the job routes', async () => {
  const host = new FakeHost();
  host.handler = (req) => {
    const m = /^workspaces\/default\/jobs\/j1(?:\/(cancel|archive|restore))?$/.exec(req.path);
    if (m === null) return undefined;
    return json(m[1] === 'cancel' ? 202 : 200, jobOf({ status: m[1] === 'cancel' ? 'Running' : 'Completed' }));
  };
  for (const verb of ['show', 'cancel', 'archive', 'restore']) {
    const r = await cli(host, 'job', verb, '-n', 'j1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Job).name, 'j1');
  }
  assert.deepEqual(
    host.seen.map((s) => `${s.method} ${s.path}`),
    [
      'GET workspaces/default/jobs/j1',
      'POST workspaces/default/jobs/j1/cancel',
      'POST workspaces/default/jobs/j1/archive',
      'POST workspaces/default/jobs/j1/restore',
    ],
  );
  assert.equal((await cli(host, 'job', 'show')).code, 2, '--name is required');
  assert.equal((await cli(host, 'job', 'frobnicate', '-n', 'j1')).code, 2);
});

function downloadHost(job: Partial<Job>): FakeHost {
  const host = new FakeHost();
  host.blobs.set('workspaceblobstore/azureml/j1/model/weights.bin', Buffer.from([9, 8, 7]));
  host.blobs.set('workspaceblobstore/azureml/j1/model/sub/config.json', Buffer.from('{"k":1}'));
  host.blobs.set('workspaceblobstore/azureml/j1/metrics.json', Buffer.from('{"acc":0.9}'));
  host.blobs.set('workspaceblobstore/azureml/j1/modelling/not-mine.txt', Buffer.from('no'));
  host.blobs.set('workspaceartifactstore/ExperimentRun/dcid.j1/user_logs/std_log.txt', Buffer.from('log\n'));
  host.handler = (req) =>
    req.method === 'GET' && req.path === 'workspaces/default/jobs/j1'
      ? json(
          200,
          jobOf({
            status: 'Completed',
            outputs: {
              model: { type: 'uri_folder', uri: 'azureml://datastores/workspaceblobstore/paths/azureml/j1/model/' },
              metrics: {
                type: 'uri_file',
                uri: 'azureml://datastores/workspaceblobstore/paths/azureml/j1/metrics.json',
              },
            },
            ...job,
          }),
        )
      : undefined;
  return host;
}

test('job download writes every named output; --output-name one; --all adds the artifacts', async () => {
  const out = join(dir, 'dl-default');
  const r = await cli(downloadHost({}), 'job', 'download', '-n', 'j1', '--download-path', out);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { directory: string; files: string[] };
  assert.equal(result.directory, out);
  assert.deepEqual(result.files.sort(), [
    join('named-outputs', 'metrics', 'metrics.json'),
    join('named-outputs', 'model', 'sub', 'config.json'),
    join('named-outputs', 'model', 'weights.bin'),
  ]);
  assert.deepEqual([...readFileSync(join(out, 'named-outputs', 'model', 'weights.bin'))], [9, 8, 7]);
  assert.equal(readFileSync(join(out, 'named-outputs', 'model', 'sub', 'config.json'), 'utf8'), '{"k":1}');
  assert.equal(readFileSync(join(out, 'named-outputs', 'metrics', 'metrics.json'), 'utf8'), '{"acc":0.9}');
  assert.ok(!existsSync(join(out, 'artifacts')));

  const one = join(dir, 'dl-one');
  const o = await cli(
    downloadHost({}),
    'job',
    'download',
    '-n',
    'j1',
    '--download-path',
    one,
    '--output-name',
    'metrics',
  );
  assert.equal(o.code, 0, o.stderr);
  assert.deepEqual((JSON.parse(o.stdout) as { files: string[] }).files, [
    join('named-outputs', 'metrics', 'metrics.json'),
  ]);
  assert.ok(!existsSync(join(one, 'named-outputs', 'model')));

  const all = join(dir, 'dl-all');
  const a = await cli(downloadHost({}), 'job', 'download', '-n', 'j1', '--download-path', all, '--all');
  assert.equal(a.code, 0, a.stderr);
  assert.equal(readFileSync(join(all, 'artifacts', 'user_logs', 'std_log.txt'), 'utf8'), 'log\n');
  assert.ok(existsSync(join(all, 'named-outputs', 'model', 'weights.bin')));

  const unknown = await cli(downloadHost({}), 'job', 'download', '-n', 'j1', '--output-name', 'nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /has no output 'nope'; its outputs: model, metrics/);

  const running = await cli(downloadHost({ status: 'Running' }), 'job', 'download', '-n', 'j1');
  assert.equal(running.code, 1);
  assert.match(running.stderr, /is Running; its outputs are downloaded once it has finished/);
});

test('job download refuses listed paths that escape the download folder', async () => {
  const escaping = (files: string[]): FakeHost => {
    const host = downloadHost({});
    host.listing = files;
    return host;
  };
  // The listing names something outside the output's folder.
  const out1 = join(dir, 'dl-escape-1');
  const outside = escaping(['azureml://datastores/workspaceblobstore/paths/azureml/other/secret.txt']);
  const r1 = await cli(outside, 'job', 'download', '-n', 'j1', '--download-path', out1, '--output-name', 'model');
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /outside it; refusing it/);
  // A path that climbs out of the folder once resolved.
  const out2 = join(dir, 'sub', 'dl-escape-2');
  const climbing = escaping(['azureml/j1/model/../../../../../../evil.txt']);
  const r2 = await cli(climbing, 'job', 'download', '-n', 'j1', '--download-path', out2, '--output-name', 'model');
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /refusing to write outside/);
  assert.ok(!existsSync(join(dir, 'evil.txt')));
  assert.ok(!existsSync(join(dir, 'sub', 'evil.txt')));
  // An output name that is a path.
  const named = downloadHost({
    outputs: { '../x': { type: 'uri_folder', uri: 'azureml://datastores/workspaceblobstore/paths/azureml/j1/model/' } },
  });
  const r3 = await cli(named, 'job', 'download', '-n', 'j1', '--download-path', join(dir, 'dl-escape-3'));
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /refusing to use it as a folder name/);
});

test('model download still keeps the folder name (the shared datastore download)', async () => {
  const host = downloadHost({});
  const answer = host.handler;
  host.handler = (req) =>
    req.path === 'workspaces/default/models/m/versions/1'
      ? json(200, {
          name: 'm',
          version: '1',
          spec: { path: 'azureml://datastores/workspaceblobstore/paths/azureml/j1/model/' },
        })
      : answer(req);
  const out = join(dir, 'dl-model');
  const r = await cli(host, 'model', 'download', '-n', 'm', '-v', '1', '--download-path', out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { files: string[] }).files.sort(), [
    join('model', 'sub', 'config.json'),
    join('model', 'weights.bin'),
  ]);
  assert.deepEqual([...readFileSync(join(out, 'm', 'model', 'weights.bin'))], [9, 8, 7]);
});

test('model create --path registers a job output, a URI or an uploaded local folder', async () => {
  const host = new FakeHost();
  host.handler = (req) =>
    /^workspaces\/default\/models\/m\/versions(\/\d+)?$/.test(req.path)
      ? json(201, { name: 'm', version: '3', spec: JSON.parse(req.body?.toString() ?? '{}') as unknown })
      : undefined;
  const fromJob = await cli(
    host,
    'model',
    'create',
    '--name',
    'm',
    '--version',
    '3',
    '--path',
    'azureml://jobs/j1/outputs/model',
    '--type',
    'mlflow_model',
    '--description',
    'from a job',
  );
  assert.equal(fromJob.code, 0, fromJob.stderr);
  assert.equal(host.seen[0]?.method, 'PUT');
  assert.equal(host.seen[0]?.path, 'workspaces/default/models/m/versions/3');
  assert.deepEqual(JSON.parse(host.seen[0]?.body?.toString() ?? ''), {
    name: 'm',
    type: 'mlflow_model',
    path: 'azureml://jobs/j1/outputs/model',
    version: '3',
    description: 'from a job',
  });

  const local = new FakeHost();
  local.handler = host.handler;
  const l = await cli(local, 'model', 'create', '-n', 'm', '--path', join(dir, 'weights'));
  assert.equal(l.code, 0, l.stderr);
  const post = local.apiCalls()[0];
  assert.equal(post?.method, 'POST');
  assert.equal(post?.path, 'workspaces/default/models/m/versions');
  const body = JSON.parse(post?.body?.toString() ?? '') as { path: string; type: string };
  assert.match(body.path, UPLOAD_URI);
  assert.ok(body.path.endsWith('/weights/'), body.path);
  assert.equal(body.type, 'custom_model');
  const folder = body.path.replace('azureml://datastores/workspaceblobstore/paths/', 'workspaceblobstore/');
  assert.deepEqual([...(local.blobs.get(`${folder}w.bin`) ?? [])], [1, 2, 3]);

  const missing = new FakeHost();
  const m = await cli(missing, 'model', 'create', '-n', 'm', '--path', join(dir, 'no-such-weights'));
  assert.equal(m.code, 1);
  assert.match(m.stderr, /model create: path: the local path .*no-such-weights does not exist/);
  assert.deepEqual(missing.seen, []);
  assert.equal((await cli(missing, 'model', 'create', '-n', 'm', '--path', 'x', '--type', 'onnx')).code, 2);
  assert.equal((await cli(missing, 'model', 'create', '--path', 'azureml://jobs/j1/outputs/model')).code, 2);
  assert.equal((await cli(missing, 'model', 'create', '-n', 'm')).code, 2);
  assert.equal((await cli(missing, 'data', 'create', '-n', 'm', '--path', 'x')).code, 2);
  assert.deepEqual(missing.seen, []);
});

test('workspace show prints the mlflow_tracking_uri the server returns', async () => {
  const host = new FakeHost();
  host.handler = (req) =>
    req.path === 'workspaces/default'
      ? json(200, { name: 'default', mlflow_tracking_uri: 'http://fake/api/workspaces/default/mlflow' })
      : undefined;
  const r = await cli(host, 'workspace', 'show', '-o', 'table');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /mlflow_tracking_uri\s+http:\/\/fake\/api\/workspaces\/default\/mlflow/);
});

// Scoring scripts: the JavaScript worker pool (init once per worker, AZUREML_MODEL_DIR, run() errors
// as 500, a dying worker replaced, init errors failing the provisioning with their stack) and the
// Python bridge (skipped where python3 is missing).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelRuntime } from '../../shared/ports/model-runtime.js';
import { createPythonScorer } from '../../shared/serving/python-scorer.js';
import { ScorerRegistry } from '../../shared/serving/registry.js';
import {
  ScorerInitError,
  type DeploymentRuntime,
  type Scorer,
  type ScoreResponse,
} from '../../shared/serving/scorer.js';
import { createScriptScorer } from '../../shared/serving/script-scorer.js';
import type { ServingDeployment } from '../../shared/serving/types.js';
import { tempDir } from '../support/serving-models.js';

const never = new AbortController().signal;
const req = (text: string) => ({ body: Buffer.from(text), headers: {} });
const json = (res: ScoreResponse): unknown => JSON.parse(res.body.toString()) as unknown;

/** A code folder with the given files, and a model folder holding weights.json. */
function folders(files: Record<string, string>): { code: string; model: string } {
  const code = tempDir('code');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(code, name), text);
  const model = tempDir('model');
  writeFileSync(join(model, 'weights.json'), JSON.stringify({ scale: 3 }));
  return { code, model };
}

const SCORE_MJS = `
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
let scale;
let inits = 0;
export function init() {
  inits++;
  scale = JSON.parse(readFileSync(join(process.env.AZUREML_MODEL_DIR, 'weights.json'), 'utf8')).scale;
  console.log('init done in thread', threadId);
}
export async function run(raw) {
  const { data, mode } = JSON.parse(raw);
  if (mode === 'throw') throw new Error('cannot score negative numbers');
  if (mode === 'exit') process.exit(3);
  if (mode === 'text') return 'plain answer';
  if (mode === 'hang') { for (;;) {} }
  if (mode === 'slow') await new Promise((r) => setTimeout(r, 30));
  return { predictions: data.map((x) => x * scale), thread: threadId, inits, greeting: process.env.GREETING };
}
`;

describe('JavaScript scoring scripts', () => {
  const scorers: Scorer[] = [];
  after(async () => {
    for (const s of scorers) await s.close();
  });
  const runtime = (code: string, model: string, script: string, instanceCount = 2): DeploymentRuntime => ({
    kind: 'script',
    codeDir: code,
    modelDir: model,
    scoringScript: script,
    instanceCount,
    environmentVariables: { GREETING: 'hi' },
  });

  test('runs init() once per worker with AZUREML_MODEL_DIR, and run(raw) on every request', async () => {
    const { code, model } = folders({ 'score.mjs': SCORE_MJS });
    const scorer = await createScriptScorer(runtime(code, model, 'score.mjs'), {});
    scorers.push(scorer);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => scorer.score(req('{"data": [1, 2], "mode": "slow"}'), never)),
    );
    const threads = new Set<number>();
    for (const res of answers) {
      assert.equal(res.status, 200);
      assert.equal(res.contentType, 'application/json');
      const body = json(res) as { predictions: number[]; thread: number; inits: number; greeting: string };
      assert.deepEqual(body.predictions, [3, 6]);
      assert.equal(body.inits, 1);
      assert.equal(body.greeting, 'hi');
      threads.add(body.thread);
    }
    assert.equal(threads.size, 2, 'both workers served');
    const text = await scorer.score(req('{"mode": "text"}'), never);
    assert.deepEqual([text.body, text.contentType], ['plain answer', 'text/plain']);
  });

  test('a run() exception is a 500 with its message; a worker that exits is replaced', async () => {
    const { code, model } = folders({ 'score.mjs': SCORE_MJS });
    const scorer = await createScriptScorer(runtime(code, model, 'score.mjs', 1), {});
    scorers.push(scorer);
    const thrown = await scorer.score(req('{"mode": "throw"}'), never);
    assert.equal(thrown.status, 500);
    assert.match(thrown.body.toString(), /run\(\) failed: cannot score negative numbers/);
    const exited = await scorer.score(req('{"mode": "exit"}'), never);
    assert.equal(exited.status, 500);
    assert.match(exited.body.toString(), /exited with code 3/);
    let res: ScoreResponse | undefined;
    for (let i = 0; i < 100 && res?.status !== 200; i++) {
      await sleep(20);
      res = await scorer.score(req('{"data": [1]}'), never);
    }
    assert.equal(res?.status, 200, 'the replacement worker serves');
  });

  test('a run() stuck past the timeout loses its worker, which is replaced', async () => {
    const { code, model } = folders({ 'score.mjs': SCORE_MJS });
    const scorer = await createScriptScorer(runtime(code, model, 'score.mjs', 1), {});
    scorers.push(scorer);
    const ac = new AbortController();
    const stuck = scorer.score(req('{"mode": "hang"}'), ac.signal);
    await sleep(30);
    ac.abort();
    assert.equal((await stuck).status, 500);
    let res: ScoreResponse | undefined;
    for (let i = 0; i < 100 && res?.status !== 200; i++) {
      await sleep(20);
      res = await scorer.score(req('{"data": [2]}'), never);
    }
    assert.deepEqual((json(res as ScoreResponse) as { predictions: number[] }).predictions, [6]);
  });

  test('CommonJS module.exports and TypeScript scripts load', async () => {
    const { code, model } = folders({
      'score.cjs': 'module.exports = { init() {}, run: (raw) => ({ n: JSON.parse(raw).length }) };',
      'score.ts':
        'interface Req { data: number[] }\nexport function run(raw: string): number { return (JSON.parse(raw) as Req).data.length; }\n',
    });
    const cjs = await createScriptScorer(runtime(code, model, 'score.cjs', 1), {});
    scorers.push(cjs);
    assert.deepEqual(json(await cjs.score(req('[1,2,3]'), never)), { n: 3 });
    const ts = await createScriptScorer(runtime(code, model, 'score.ts', 1), {});
    scorers.push(ts);
    assert.deepEqual(json(await ts.score(req('{"data": [1, 2]}'), never)), 2);
  });

  test('an init() error fails the provisioning with its message, stack and output', async () => {
    const { code, model } = folders({
      'score.mjs':
        'export function init() { console.log("loading weights"); throw new Error("weights.bin is missing"); }\nexport function run() {}\n',
    });
    const registry = new ScorerRegistry({ modelRuntime: {} as ModelRuntime, fetchFiles: async (uri) => uri });
    const d: ServingDeployment = {
      name: 'blue',
      endpoint_name: 'e',
      revision: 1,
      kind: 'script',
      model_uri: model,
      code_uri: code,
      scoring_script: 'score.mjs',
      instance_count: 1,
      request_settings: { request_timeout_ms: 1000, max_concurrent_requests_per_instance: 1, max_queue_wait_ms: 100 },
      environment_variables: {},
    };
    const result = await registry.provision(d);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.match(result.reason, /init\(\) failed: weights\.bin is missing/);
    assert.match(result.logs, /at init \(file:.*score\.mjs/);
    assert.match(result.logs, /loading weights/);
    await registry.close();
  });

  test('a missing script, or one that is not JavaScript, is refused with a reason', async () => {
    const { code, model } = folders({ 'score.py': 'def run(raw): pass\n' });
    await assert.rejects(createScriptScorer(runtime(code, model, 'nope.js'), {}), /does not exist/);
    await assert.rejects(createScriptScorer(runtime(code, model, 'score.py'), {}), /deploy it as a python deployment/);
    await assert.rejects(createScriptScorer(runtime(code, model, '../x.js'), {}), ScorerInitError);
  });
});

const hasPython = spawnSync('python3', ['--version']).status === 0;

describe('Python scoring scripts', { skip: hasPython ? false : 'python3 is not installed' }, () => {
  const SCORE_PY = `
import json, os
model = None
calls = 0
def init():
    global model
    print("init: reading", os.environ["AZUREML_MODEL_DIR"])
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.json")) as f:
        model = json.load(f)
def run(raw_data):
    global calls
    calls += 1
    data = json.loads(raw_data)
    if data.get("mode") == "throw":
        raise ValueError("bad input shape")
    if data.get("mode") == "text":
        return "plain"
    print("scoring", len(data["data"]), "rows")
    return {"predictions": [x * model["scale"] for x in data["data"]], "calls": calls, "pid": os.getpid()}
`;

  test('serves run(raw) from long-lived processes with init() run once each', async () => {
    const { code, model } = folders({ 'score.py': SCORE_PY });
    const output: string[] = [];
    const scorer = await createPythonScorer(
      {
        kind: 'python',
        codeDir: code,
        modelDir: model,
        scoringScript: 'score.py',
        instanceCount: 2,
        environmentVariables: {},
      },
      {},
      { onOutput: (t) => output.push(t) },
    );
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, () => scorer.score(req('{"data": [1, 2]}'), never)));
      const pids = new Set<number>();
      for (const res of answers) {
        assert.equal(res.status, 200, res.body.toString());
        const body = json(res) as { predictions: number[]; pid: number };
        assert.deepEqual(body.predictions, [3, 6]);
        pids.add(body.pid);
      }
      assert.equal(pids.size, 2);
      const thrown = await scorer.score(req('{"mode": "throw"}'), never);
      assert.equal(thrown.status, 500);
      assert.match(thrown.body.toString(), /ValueError: bad input shape/);
      const text = await scorer.score(req('{"mode": "text"}'), never);
      assert.equal(text.body, 'plain');
      assert.match(output.join(''), /init: reading .*scoring 2 rows/s);
    } finally {
      await scorer.close();
    }
  });

  test('an init() error fails with the traceback', async () => {
    const { code, model } = folders({
      'score.py': 'def init():\n    raise RuntimeError("no GPU here")\ndef run(raw):\n    return 1\n',
    });
    await assert.rejects(
      createPythonScorer(
        {
          kind: 'python',
          codeDir: code,
          modelDir: model,
          scoringScript: 'score.py',
          instanceCount: 1,
          environmentVariables: {},
        },
        {},
      ),
      (e: unknown) =>
        e instanceof ScorerInitError && /RuntimeError: no GPU here/.test(e.message) && /Traceback/.test(e.logs),
    );
  });

  test('a missing interpreter fails with a clear reason', async () => {
    const { code, model } = folders({ 'score.py': 'def run(raw):\n    return 1\n' });
    mkdirSync(join(code, 'sub'), { recursive: true });
    await assert.rejects(
      createPythonScorer(
        {
          kind: 'python',
          codeDir: code,
          modelDir: model,
          scoringScript: 'score.py',
          instanceCount: 1,
          environmentVariables: {},
        },
        {},
        { python: 'python3-that-does-not-exist' },
      ),
      /is not installed on this host/,
    );
  });
});

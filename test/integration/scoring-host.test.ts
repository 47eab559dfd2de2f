// The Python scoring image's server (scoring-host/main.ts) as a Container Apps revision runs it,
// but on the embedded store: the model and the code sit in workspaceblobstore under datastore URIs,
// the process gets the revision's variables (shared/contracts/scoring-image.ts), copies them to
// local disk, runs score.py's init() and answers POST /score with the key, and 401 without it.
// Skipped where python3 is missing. (The image itself, infra/scoring-host/Dockerfile, is not built
// here: there is no container engine.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig } from '../../shared/config.js';
import { SCORING_ENV } from '../../shared/contracts/scoring-image.js';
import { closeServicesOf, createServices, type Services } from '../../shared/wiring.js';
import { tempDir } from '../support/fixture-app.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;

const SCORE_PY = `
import json, os
scale = None
def init():
    global scale
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.json")) as f:
        scale = json.load(f)["scale"]
def run(raw_data):
    return {"predictions": [x * scale for x in json.loads(raw_data)["data"]]}
`;

describe('the Python scoring image server', { skip: hasPython ? false : 'python3 is not installed' }, () => {
  let dataDir: string;
  let services: Services;
  let child: ChildProcess;
  let origin: string;
  let output = '';

  before(async () => {
    dataDir = tempDir('scoring-host');
    const env = { TESSERA_DATA_DIR: dataDir, PORT: '7997' };
    services = await createServices(loadConfig(env));
    await services.workspaces.ensureDefault();
    const store = await services.datastores.resolve('default', 'workspaceblobstore');
    await store.store.put(store.container, `${store.prefix}code/v1/score.py`, Buffer.from(SCORE_PY));
    await store.store.put(store.container, `${store.prefix}models/scale/1/weights.json`, Buffer.from('{"scale": 3}'));
    await closeServicesOf(services);
    child = spawn(process.execPath, [resolve('dist/scoring-host/main.js')], {
      env: {
        ...process.env,
        ...env,
        PORT: '0',
        [SCORING_ENV.workspace]: 'default',
        [SCORING_ENV.codeUri]: 'azureml://datastores/workspaceblobstore/paths/code/v1/',
        [SCORING_ENV.modelUri]: 'azureml://datastores/workspaceblobstore/paths/models/scale/1/',
        [SCORING_ENV.entryScript]: 'score.py',
        [SCORING_ENV.scoringKey]: 'the-key',
        [SCORING_ENV.deployment]: 'blue',
        [SCORING_ENV.endpoint]: 'ep',
        [SCORING_ENV.generation]: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const end = Date.now() + 30_000;
    while (!/score\.py ready/.test(output)) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`the scoring host did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = /listening on (\d+)/.exec(output)?.[1];
    origin = `http://127.0.0.1:${port}`;
  });
  after(() => {
    child?.kill('SIGTERM');
  });

  const score = (key: string | undefined, body: unknown) =>
    fetch(`${origin}/score`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
      body: JSON.stringify(body),
    });

  it('copies model and code from the datastore, runs init() and answers run() with the key', async () => {
    const live = await fetch(`${origin}/`);
    assert.equal(live.status, 200);
    const answer = await score('the-key', { data: [1, 2] });
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { predictions: [3, 6] });
  });

  it('answers 401 without the key or with another one, and 404 off /score', async () => {
    assert.equal((await score(undefined, { data: [1] })).status, 401);
    assert.equal((await score('not-the-key', { data: [1] })).status, 401);
    assert.equal((await fetch(`${origin}/other`, { method: 'POST' })).status, 404);
  });

  it('a run() that throws is a 500 naming the error, and the server keeps serving', async () => {
    const bad = await score('the-key', { rows: [1] });
    assert.equal(bad.status, 500);
    assert.match(await bad.text(), /KeyError|data/);
    assert.equal((await score('the-key', { data: [5] })).status, 200);
  });
});

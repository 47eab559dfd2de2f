// Issue 4's flow as a user runs it: `tessera job create --file ... --stream` against a running host
// (the diabetes example), job show / list / download, the MLflow run, the registered model, and
// failing, canceled, timed-out, queued and badly specified jobs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Job, JobList } from '../../shared/contracts/job.js';
import { tempDir, waitFor } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';
import { runTessera, type CliResult } from '../support/tessera-cli.js';

const EXAMPLE = resolve('examples/diabetes');
const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0;

describe('command jobs through the tessera CLI and the REST API', () => {
  let host: HostProcess;
  let dataDir: string;
  let specs: string;
  let token: string;

  before(async () => {
    dataDir = tempDir('jobs-e2e');
    host = await startHostProcess({ dataDir });
    token = (JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { token: string }).token;
    specs = tempDir('jobs-specs');
    const yaml = (name: string, text: string): void => writeFileSync(join(specs, name), text);
    mkdirSync(join(specs, 'src'));
    writeFileSync(join(specs, 'src', 'hello.sh'), 'echo "hello from $1"\n');
    yaml(
      'fails.yml',
      'command: echo "about to fail"; echo "bad thing" >&2; exit 3\nenvironment:\n  image: python:3.11\nexperiment_name: failures\n',
    );
    yaml('sleeps.yml', 'command: echo started; sleep 30\nenvironment:\n  image: python:3.11\n');
    yaml('timeout.yml', 'command: echo started; sleep 30\nenvironment:\n  image: python:3.11\nlimits:\n  timeout: 2\n');
    yaml(
      'io.yml',
      [
        'code: ./src',
        'command: >-',
        '  bash hello.sh ${{inputs.who}} && ls ${{inputs.table}} && cp ${{inputs.table}}/MLTable ${{outputs.copy}}',
        '  && echo "$AZURE_ML_INPUT_who" > ${{outputs.note}} $[[&& echo "greeting ${{inputs.greeting}}"]]',
        '  $[[&& echo "never ${{inputs.missing}}"]]',
        'inputs:',
        '  who: tessera',
        '  greeting: hi',
        '  table:',
        '    type: mltable',
        '    path: azureml:iris:1',
        '  missing:',
        '    type: uri_file',
        '    optional: true',
        'outputs:',
        '  copy:',
        '    type: uri_folder',
        '  note:',
        '    type: uri_file',
        '    name: greeting-note',
        'environment:',
        '  image: python:3.11',
        'experiment_name: io',
      ].join('\n'),
    );
    yaml(
      'compute.yml',
      'name: two-slots\ntype: amlcompute\nsize: Standard_DS3_v2\nmin_instances: 0\nmax_instances: 2\n',
    );
    mkdirSync(join(specs, 'trial'));
    writeFileSync(
      join(specs, 'trial', 'trial.mjs'),
      [
        'const [lr, depth, base] = process.argv.slice(2).map(Number);',
        'const score = base - (lr - 0.3) ** 2 + depth * 0.01;',
        "const res = await fetch(process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow/runs/log-metric', {",
        "  method: 'POST',",
        "  headers: { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' },",
        "  body: JSON.stringify({ run_id: process.env.MLFLOW_RUN_ID, key: 'score', value: score, timestamp: Date.now() }),",
        '});',
        "if (!res.ok) throw new Error('log-metric: ' + res.status);",
        "console.log('score', score);",
        "(await import('node:fs')).writeFileSync(process.argv[5] + '/score.txt', String(score));",
      ].join('\n'),
    );
    yaml(
      'sweep.yml',
      [
        'type: sweep',
        'trial:',
        '  code: ./trial',
        '  command: node trial.mjs ${{search_space.lr}} ${{search_space.depth}} ${{inputs.base}} ${{outputs.model}}',
        '  environment:',
        '    image: node:20',
        'inputs:',
        '  base: 1',
        'outputs:',
        '  model:',
        '    type: custom_model',
        '    name: sweep-best',
        'search_space:',
        '  lr:',
        '    type: choice',
        '    values: [0.1, 0.3, 0.5]',
        '  depth:',
        '    type: choice',
        '    values: [1, 2]',
        'sampling_algorithm: grid',
        'objective:',
        '  goal: maximize',
        '  primary_metric: score',
        'limits:',
        '  max_concurrent_trials: 2',
        'experiment_name: sweeps',
      ].join('\n'),
    );
    yaml(
      'bayesian-sweep.yml',
      [
        'type: sweep',
        'trial:',
        '  code: ./trial',
        '  command: node trial.mjs ${{search_space.lr}} ${{search_space.depth}} ${{inputs.base}} ${{outputs.model}}',
        '  environment:',
        '    image: node:20',
        'inputs:',
        '  base: 1',
        'outputs:',
        '  model:',
        '    type: custom_model',
        'search_space:',
        '  lr:',
        '    type: uniform',
        '    min_value: 0',
        '    max_value: 1',
        '  depth:',
        '    type: choice',
        '    values: [1, 2]',
        'sampling_algorithm: bayesian',
        'objective:',
        '  goal: maximize',
        '  primary_metric: score',
        'limits:',
        '  max_total_trials: 9',
        '  max_concurrent_trials: 3',
        'experiment_name: sweeps',
      ].join('\n'),
    );
    mkdirSync(join(specs, 'policy'));
    writeFileSync(
      join(specs, 'policy', 'trial.mjs'),
      [
        '// Logs acc = quality × k / 25 at k = 1..25, 0.4 s apart: the low-quality trial trails from the start.',
        'const quality = Number(process.argv[2]);',
        'for (let k = 1; k <= 25; k++) {',
        "  const res = await fetch(process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow/runs/log-metric', {",
        "    method: 'POST',",
        "    headers: { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' },",
        "    body: JSON.stringify({ run_id: process.env.MLFLOW_RUN_ID, key: 'acc', value: (quality * k) / 25, step: k, timestamp: Date.now() }),",
        '  });',
        "  if (!res.ok) throw new Error('log-metric: ' + res.status);",
        '  await new Promise((r) => setTimeout(r, 400));',
        '}',
      ].join('\n'),
    );
    yaml(
      'policy-sweep.yml',
      [
        'type: sweep',
        'trial:',
        '  code: ./policy',
        '  command: node trial.mjs ${{search_space.quality}}',
        '  environment:',
        '    image: node:20',
        'search_space:',
        '  quality:',
        '    type: choice',
        '    values: [1, 0.2]',
        'sampling_algorithm: grid',
        'objective:',
        '  goal: maximize',
        '  primary_metric: acc',
        'early_termination:',
        '  type: bandit',
        '  slack_factor: 0.2',
        '  evaluation_interval: 1',
        '  delay_evaluation: 2',
        'limits:',
        '  max_concurrent_trials: 2',
        'experiment_name: sweeps',
      ].join('\n'),
    );
    yaml('queued.yml', 'command: sleep 1\nenvironment:\n  image: python:3.11\ncompute: azureml:two-slots\n');
  });
  after(async () => {
    await host.stop('SIGTERM');
  });

  const tessera = (...args: string[]): Promise<CliResult> => runTessera(args, { dataDir, cwd: specs });
  const json = <T>(r: CliResult): T => {
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${host.origin}/api/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }
  const mlflow = (path: string, body?: unknown) =>
    api(body === undefined ? 'GET' : 'POST', `workspaces/default/mlflow/api/2.0/mlflow/${path}`, body);
  const job = async (name: string): Promise<Job> => (await api('GET', `workspaces/default/jobs/${name}`)).body as Job;
  const statuses = (j: Job): string[] => j.statusHistory.map((s) => s.status);

  for (const [flavour, file] of [
    ['Node', 'job-node.yml'],
    ['Python', 'job.yml'],
  ] as const) {
    it(
      `the diabetes example (${flavour}) completes with --stream, logs to its MLflow run and registers its model`,
      { skip: flavour === 'Python' && !HAS_PYTHON ? 'python3 is not installed' : false },
      async () => {
        const created = await tessera('job', 'create', '--file', join(EXAMPLE, file), '--stream');
        assert.equal(created.code, 0, `${created.stdout}\n${created.stderr}`);
        const name = /Job (\S+) Completed/.exec(created.stderr)?.[1];
        assert.ok(name, created.stderr);
        assert.match(created.stdout, /r2/i, 'the live log shows the script output');

        const shown = json<Job>(await tessera('job', 'show', '-n', name));
        assert.equal(shown.status, 'Completed');
        assert.deepEqual(statuses(shown), ['Queued', 'Preparing', 'Running', 'Finalizing', 'Completed']);
        assert.ok(shown.notices.some((n) => /not pulled/.test(n)));
        assert.equal(shown.mlflow.run_id, name);
        assert.match(shown.outputs.model?.asset ?? '', /^azureml:diabetes-ridge:\d+$/);

        const { body } = await mlflow(`runs/get?run_id=${name}`);
        const runData = (
          body as {
            run: {
              info: { status: string };
              data: { metrics?: { key: string; value: number }[]; params?: { key: string; value: string }[] };
            };
          }
        ).run;
        assert.equal(runData.info.status, 'FINISHED');
        assert.equal(runData.data.params?.find((p) => p.key === 'alpha')?.value, '0.1');
        const r2 = runData.data.metrics?.find((m) => m.key === 'r2')?.value;
        assert.ok(r2 !== undefined && r2 > 0.3, `r2 ${r2}`);

        const version = shown.outputs.model?.asset?.split(':')[2] ?? '';
        const model = json<{ spec: { path: string } }>(
          await tessera('model', 'show', '-n', 'diabetes-ridge', '-v', version),
        );
        assert.equal(model.spec.path, shown.outputs.model?.uri);

        const downloads = tempDir('job-download');
        json(await tessera('job', 'download', '-n', name, '--download-path', downloads, '--all'));
        const modelJson = JSON.parse(readFileSync(join(downloads, 'named-outputs', 'model', 'model.json'), 'utf8')) as {
          coefficients: number[];
        };
        assert.equal(modelJson.coefficients.length, 10);
        assert.ok(existsSync(join(downloads, 'artifacts', 'user_logs', 'std_log.txt')));

        const again = json<{ name: string; version: string; spec: { path: string } }>(
          await tessera(
            'model',
            'create',
            '--name',
            `from-${flavour.toLowerCase()}`,
            '--path',
            `azureml://jobs/${name}/outputs/model`,
          ),
        );
        assert.equal(again.spec.path, shown.outputs.model?.uri);
      },
    );
  }

  it('inputs from a data asset and literals, optional $[[...]] segments, folder and file outputs', async () => {
    const created = await tessera('job', 'create', '--file', 'io.yml', '--stream');
    assert.equal(created.code, 0, `${created.stdout}\n${created.stderr}`);
    assert.match(created.stdout, /hello from tessera/);
    assert.match(created.stdout, /MLTable/);
    assert.match(created.stdout, /greeting hi/);
    assert.doesNotMatch(created.stdout, /^never/m);
    const name = /Job (\S+) Completed/.exec(created.stderr)?.[1] ?? '';
    const shown = await job(name);
    assert.match(shown.outputs.note?.asset ?? '', /^azureml:greeting-note:1$/);
    const note = await api('GET', 'workspaces/default/data/greeting-note/versions/1');
    assert.equal((note.body as { spec: { type: string } }).spec.type, 'uri_file');
  });

  it('a failing command ends Failed with its exit code and the tail of its log; --stream exits 1', async () => {
    const created = await tessera('job', 'create', '--file', 'fails.yml', '--stream');
    assert.equal(created.code, 1);
    assert.match(created.stdout, /about to fail/);
    const name = /Job (\S+) Failed/.exec(created.stderr)?.[1] ?? '';
    const shown = await job(name);
    assert.equal(shown.status, 'Failed');
    assert.equal(shown.exitCode, 3);
    assert.equal(shown.error?.code, 'UserError');
    assert.match(shown.error?.message ?? '', /exited with code 3[\s\S]*bad thing/);
    assert.equal(shown.attempt, 1, 'a failed command is not retried');
    const { body } = await mlflow(`runs/get?run_id=${name}`);
    assert.equal((body as { run: { info: { status: string } } }).run.info.status, 'FAILED');
    const listed = json<JobList>(await tessera('job', 'list', '--experiment', 'failures', '--status', 'Failed'));
    assert.deepEqual(
      listed.value.map((j) => j.name),
      [name],
    );
  });

  it('cancel stops a running job: Canceled, its MLflow run KILLED', async () => {
    const created = json<Job>(await tessera('job', 'create', '--file', 'sleeps.yml'));
    assert.equal(created.status, 'Queued');
    await waitFor('the job to run', async () => ((await job(created.name)).status === 'Running' ? true : undefined));
    const canceled = json<Job>(await tessera('job', 'cancel', '-n', created.name));
    assert.equal(canceled.name, created.name);
    await waitFor('the job to be canceled', async () =>
      (await job(created.name)).status === 'Canceled' ? true : undefined,
    );
    const { body } = await mlflow(`runs/get?run_id=${created.name}`);
    assert.equal((body as { run: { info: { status: string } } }).run.info.status, 'KILLED');
  });

  it('limits.timeout stops the job and fails it with JobTimeout', async () => {
    const created = json<Job>(await tessera('job', 'create', '--file', 'timeout.yml'));
    await waitFor(
      'the job to end',
      async () => (['Failed', 'Completed'].includes((await job(created.name)).status) ? true : undefined),
      30_000,
    );
    const shown = await job(created.name);
    assert.equal(shown.status, 'Failed');
    assert.equal(shown.error?.code, 'JobTimeout');
  });

  it('a compute with max_instances: 2 runs two of its jobs at a time and queues the rest', async () => {
    json(await tessera('compute', 'create', '--file', 'compute.yml'));
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push(json<Job>(await tessera('job', 'create', '--file', 'queued.yml')).name);
    await waitFor(
      'the queued jobs to complete',
      async () => ((await Promise.all(names.map(job))).every((j) => j.status === 'Completed') ? true : undefined),
      60_000,
    );
    const jobs = await Promise.all(names.map(job));
    const intervals = jobs.map((j) => {
      const at = (s: string) => j.statusHistory.find((h) => h.status === s)?.at ?? 0;
      return [at('Preparing'), at('Finalizing')] as const;
    });
    for (const [start] of intervals) {
      const overlapping = intervals.filter(([s, e]) => s <= start && start < e).length;
      assert.ok(overlapping <= 2, `${overlapping} jobs of two-slots ran at once`);
    }
    assert.ok(jobs.every((j) => j.notices.some((n) => /max_instances/.test(n))));
  });

  it('bad specs are refused with 4xx and a message naming the problem; nothing is stored', async () => {
    const post = (body: unknown) => api('POST', 'workspaces/default/jobs', body);
    const env = { image: 'python:3.11' };
    const cases: [unknown, number, RegExp][] = [
      [{ environment: env }, 400, /command/],
      [{ command: 'echo ${{inputs.nope}}', environment: env }, 400, /no input 'nope'/],
      [{ command: 'echo', environment: env, compute: 'azureml:missing' }, 400, /compute 'missing' does not exist/],
      [
        {
          command: 'echo ${{inputs.d}}',
          environment: env,
          inputs: { d: { type: 'uri_folder', path: 'azureml:nothing:1' } },
        },
        400,
        /inputs\.d/,
      ],
      [{ command: 'echo', environment: 'azureml:my-env:1' }, 400, /environment azureml:my-env:1 does not exist/],
      [{ command: 'echo', environment: env, code: '/home/me/src' }, 400, /local path/],
      [{ command: 'echo', environment: env, colour: 'blue' }, 400, /colour/],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match((res.body as { error: { message: string } }).error.message, message);
    }
    const first = await post({ name: 'fixed-name', command: 'echo one', environment: env });
    assert.equal(first.status, 201);
    const dup = await post({ name: 'fixed-name', command: 'echo two', environment: env });
    assert.equal(dup.status, 409);
    assert.equal((await api('GET', 'workspaces/default/jobs/no-such-job')).status, 404);
  });

  it('resources.instance_count × process_count_per_instance start that many ranks, each with its own log', async () => {
    const created = await api('POST', 'workspaces/default/jobs', {
      command: 'echo "rank $RANK of $WORLD_SIZE at $MASTER_ADDR"',
      environment: { image: 'python:3.11' },
      resources: { instance_count: 2 },
      distribution: { type: 'pytorch', process_count_per_instance: 2 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const name = (created.body as Job).name;
    const done = await waitFor('the distributed job to end', async () => {
      const j = await job(name);
      return ['Completed', 'Failed'].includes(j.status) ? j : undefined;
    });
    assert.equal(done.status, 'Completed', JSON.stringify(done.error));
    assert.ok(done.notices.some((n) => /4 processes/.test(n)));
    const res = await fetch(`${host.origin}/api/workspaces/default/jobs/${name}/logs`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.match(await res.text(), /rank 0 of 4 at 127\.0\.0\.1/);
    const downloads = tempDir('job-ranks');
    json(await tessera('job', 'download', '-n', name, '--download-path', downloads, '--all'));
    const rank3 = readFileSync(join(downloads, 'artifacts', 'user_logs', 'std_log_process_3.txt'), 'utf8');
    assert.match(rank3, /rank 3 of 4/);
  });

  it('a grid sweep runs every trial as a command job, two at a time, and picks the best by its metric', async () => {
    const created = json<Job>(await tessera('job', 'create', '--file', 'sweep.yml'));
    assert.equal(created.type, 'sweep');
    const done = await waitFor(
      'the sweep to end',
      async () => {
        const j = await job(created.name);
        return ['Completed', 'Failed', 'Canceled'].includes(j.status) ? j : undefined;
      },
      90_000,
    );
    assert.equal(done.status, 'Completed', JSON.stringify(done.error));
    assert.equal(done.trials?.created, 6);
    assert.equal(done.trials?.leaderboard.length, 6);
    assert.deepEqual(done.trials?.leaderboard[0]?.parameters, { lr: 0.3, depth: 2 });
    const best = done.trials?.best ?? '';
    assert.equal((await job(best)).parent, created.name);
    const trials = json<JobList>(await tessera('job', 'list', '--experiment', 'sweeps', '--status', 'Completed'));
    const children = trials.value.filter((j) => j.parent === created.name);
    assert.equal(children.length, 6);
    const spans = children.map((j) => {
      const at = (s: string) => j.statusHistory.find((h) => h.status === s)?.at ?? 0;
      return [at('Preparing'), at('Finalizing')] as const;
    });
    for (const [start] of spans) {
      assert.ok(spans.filter(([a, b]) => a <= start && start < b).length <= 2, 'at most max_concurrent_trials at once');
    }
    const { body } = await mlflow(`runs/get?run_id=${created.name}`);
    const run = (body as { run: { info: { status: string }; data: { tags?: { key: string; value: string }[] } } }).run;
    assert.equal(run.info.status, 'FINISHED');
    assert.equal(run.data.tags?.find((t) => t.key === 'best_child_run_id')?.value, best);
    // The sweep's named output is registered from the best trial (the trials register nothing).
    assert.match(done.outputs.model?.asset ?? '', /^azureml:sweep-best:1$/);
    assert.equal(done.outputs.model?.uri, (await job(best)).outputs.model?.uri);
    const versions = await api('GET', 'workspaces/default/models/sweep-best/versions');
    assert.equal((versions.body as { value: unknown[] }).value.length, 1);
  });

  it('a bayesian sweep runs its Sobol start, then model-proposed trials, and ranks them all', async () => {
    const created = json<Job>(await tessera('job', 'create', '--file', 'bayesian-sweep.yml'));
    const done = await waitFor(
      'the bayesian sweep to end',
      async () => {
        const j = await job(created.name);
        return ['Completed', 'Failed', 'Canceled'].includes(j.status) ? j : undefined;
      },
      90_000,
    );
    assert.equal(done.status, 'Completed', JSON.stringify(done.error));
    assert.equal(done.trials?.created, 9);
    const board = done.trials?.leaderboard ?? [];
    assert.equal(board.length, 9);
    const lrs = board.map((e) => e.parameters['lr'] as number);
    assert.equal(new Set(lrs).size, 9, 'every trial has its own point');
    assert.ok(lrs.every((lr) => lr >= 0 && lr < 1));
    // score = 1 - (lr - 0.3)^2 + depth / 100: the best trial is near lr 0.3 with depth 2.
    assert.ok(Math.abs((board[0]?.parameters['lr'] as number) - 0.3) < 0.2, JSON.stringify(board[0]));
  });

  it('a bandit policy stops the trailing trial while it runs: Canceled with a notice, still on the leaderboard', async () => {
    const created = json<Job>(await tessera('job', 'create', '--file', 'policy-sweep.yml'));
    const done = await waitFor(
      'the policy sweep to end',
      async () => {
        const j = await job(created.name);
        return ['Completed', 'Failed', 'Canceled'].includes(j.status) ? j : undefined;
      },
      90_000,
    );
    assert.equal(done.status, 'Completed', JSON.stringify(done.error));
    const [stop] = done.trials?.stopped ?? [];
    assert.equal(stop?.name, `${created.name}_1`, JSON.stringify(done.trials));
    assert.equal(stop?.policy, 'bandit');
    const stopped = await job(`${created.name}_1`);
    assert.equal(stopped.status, 'Canceled');
    assert.ok(
      stopped.notices.some((n) =>
        /^stopped by the bandit policy at interval \d+: its best acc [\d.]+ is below/.test(n),
      ),
      JSON.stringify(stopped.notices),
    );
    assert.equal((await job(`${created.name}_0`)).status, 'Completed');
    // The stopped trial counts with the last value it logged, below the one that ran to its end.
    assert.deepEqual(
      done.trials?.leaderboard.map((e) => e.name),
      [`${created.name}_0`, `${created.name}_1`],
    );
    assert.equal(done.trials?.leaderboard[0]?.value, 1);
    assert.ok((done.trials?.leaderboard[1]?.value ?? 1) < 0.2);
    const shown = await tessera('job', 'show', '-n', created.name, '-o', 'table');
    assert.match(shown.stdout, /Stopped early \(1\)/);
  });

  it('bad sweep specs are refused with a 400 naming the problem', async () => {
    const base = {
      type: 'sweep',
      trial: { command: 'echo ${{search_space.lr}}', environment: { image: 'python:3.11' } },
      search_space: { lr: { type: 'choice', values: [1, 2] } },
      objective: { goal: 'maximize', primary_metric: 'acc' },
      sampling_algorithm: 'grid',
    };
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { sampling_algorithm: 'bayesian', search_space: { lr: { type: 'normal', mu: 0, sigma: 1 } } },
        /search_space\.lr: bayesian sampling takes only choice, uniform/,
      ],
      [
        { sampling_algorithm: 'bayesian', early_termination: { type: 'bandit', slack_factor: 0.1 } },
        /bayesian sampling does not take an early termination policy/,
      ],
      [{ sampling_algorithm: 'bayesian' }, /max_total_trials is required with bayesian sampling/],
      [{ search_space: { lr: { type: 'uniform', min_value: 0, max_value: 1 } } }, /grid sampling takes only choice/],
      [{ sampling_algorithm: 'random' }, /max_total_trials is required/],
      [{ early_termination: { type: 'bandit' } }, /early_termination\.slack_factor: a bandit policy takes exactly one/],
      [{ trial: { command: 'echo ${{inputs.nope}}', environment: { image: 'x' } } }, /no input 'nope'/],
    ];
    for (const [change, message] of cases) {
      const res = await api('POST', 'workspaces/default/jobs', { ...base, ...change });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match((res.body as { error: { message: string } }).error.message, message);
    }
  });

  it('bad tracking calls get MLflow error bodies', async () => {
    const missing = await mlflow('runs/log-metric', { run_id: 'no-such-run', key: 'm', value: 1, timestamp: 1 });
    assert.equal(missing.status, 404);
    assert.equal((missing.body as { error_code: string }).error_code, 'RESOURCE_DOES_NOT_EXIST');
    const bad = await mlflow('runs/log-metric', { run_id: 'x', key: 'm', value: 'not a number', timestamp: 1 });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
  });

  it('workspace show reports the MLflow tracking URI', async () => {
    const ws = json<{ mlflow_tracking_uri: string }>(await tessera('workspace', 'show', '--name', 'default'));
    assert.equal(ws.mlflow_tracking_uri, `${host.origin}/api/workspaces/default/mlflow`);
  });
});

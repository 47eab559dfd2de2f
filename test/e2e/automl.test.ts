// Issue 5's flow as a user runs it: `tessera job create --file automl.yml --stream` against a
// running host. The trials show as they finish, the job ends with its registered best model (an
// ONNX graph with its manifest) and the permutation importance `tessera job show` prints; the same
// spec twice gives the same leaderboard; bad data is reported before any trial starts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import type { Job, JobList } from '../../shared/contracts/job.js';
import type { ForecastModel } from '../../shared/ml/automl/forecast-model.js';
import { forecastValues } from '../../shared/ml/automl/forecast-model.js';
import { forecastFeeds } from '../../shared/ml/automl/forecast-onnx.js';
import type { ModelManifest } from '../../shared/ml/automl/types.js';
import { inputSpec, toOnnxFeeds } from '../../shared/ml/featurize/onnx-io.js';
import { tempDir, waitFor } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';
import { runTessera, type CliResult } from '../support/tessera-cli.js';

const EXAMPLES = resolve('examples/automl');

const MLTABLE = [
  'type: mltable',
  'paths:',
  '  - file: ./data.csv',
  'transformations:',
  '  - read_delimited:',
  "      delimiter: ','",
  '      header: all_files_same_headers',
  '      encoding: utf8',
  '',
].join('\n');

describe('AutoML jobs through the tessera CLI', () => {
  let host: HostProcess;
  let dataDir: string;
  let specs: string;

  before(async () => {
    dataDir = tempDir('automl-e2e');
    host = await startHostProcess({ dataDir });
    specs = tempDir('automl-specs');
    const table = (name: string, csv: string): void => {
      mkdirSync(join(specs, name), { recursive: true });
      writeFileSync(join(specs, name, 'MLTable'), MLTABLE);
      writeFileSync(join(specs, name, 'data.csv'), csv);
    };
    const rows = (n: number, row: (i: number) => string): string =>
      Array.from({ length: n }, (_, i) => row(i)).join('\n') + '\n';
    table('constant', 'x,y\n' + rows(40, (i) => `${i},1`));
    table('all-missing', 'x,empty,y\n' + rows(40, (i) => `${i},,${i % 2}`));
    table('few-rows', 'x,y\n' + rows(4, (i) => `${i},${i % 2}`));
    // Typed as numbers from its first 1,000 rows, then a string.
    table('string-in-number', 'x,y\n' + rows(1100, (i) => `${i === 1050 ? 'abc' : i},${i % 2}`));
    const spec = (name: string, data: string, extra = ''): void =>
      writeFileSync(
        join(specs, name),
        [
          'type: automl',
          'task: classification',
          'experiment_name: automl-bad-data',
          'target_column_name: y',
          'training_data:',
          '  type: mltable',
          `  path: ./${data}`,
          'limits:',
          '  max_trials: 2',
          extra,
        ].join('\n'),
      );
    // Two blobs of classes over x1 + x2, and three folds of 40 consecutive rows as split columns.
    table(
      'user-folds',
      'x1,x2,f1,f2,f3,y\n' +
        rows(120, (i) => {
          const [x1, x2] = [(i * 37) % 101, (i * 53) % 97];
          const fold = Math.floor(i / 40);
          return `${x1},${x2},${fold === 0 ? 0 : 1},${fold === 1 ? 0 : 1},${fold === 2 ? 0 : 1},${x1 + x2 > 100 ? 'hi' : 'lo'}`;
        }),
    );
    spec('constant.yml', 'constant');
    spec('all-missing.yml', 'all-missing');
    spec('few-rows.yml', 'few-rows', 'n_cross_validations: 3');
    spec('string-in-number.yml', 'string-in-number');
    writeFileSync(
      join(specs, 'unknown-target.yml'),
      readFileSync(join(EXAMPLES, 'iris-classification.yml'), 'utf8').replace(
        'target_column_name: target',
        'target_column_name: species',
      ),
    );
    writeFileSync(
      join(specs, 'repro.yml'),
      [
        'type: automl',
        'task: regression',
        'experiment_name: automl-repro',
        'target_column_name: target',
        'primary_metric: r2_score',
        'training_data:',
        '  type: mltable',
        `  path: ${resolve('examples/diabetes/data')}`,
        'n_cross_validations: 3',
        'test_data_size: 0.2',
        'limits:',
        '  max_trials: 6',
        '  max_concurrent_trials: 3',
        'training:',
        '  enable_stack_ensemble: false',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await host.stop('SIGTERM');
  });

  const tessera = (...args: string[]): Promise<CliResult> =>
    runTessera(args, { dataDir, cwd: specs, maxBuffer: 16 * 1024 * 1024 });
  const json = <T>(r: CliResult): T => {
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const show = (name: string): Promise<Job> =>
    tessera('job', 'show', '-n', name, '-o', 'json').then((r) => json<Job>(r));
  /** The best trial's model output, downloaded: its folder and manifest.json. */
  const bestModel = async (job: Job): Promise<{ folder: string; manifest: ModelManifest }> => {
    const download = tempDir('automl-download');
    await tessera(
      'job',
      'download',
      '-n',
      job.trials?.best ?? '',
      '--output-name',
      'model',
      '--download-path',
      download,
    );
    const folder = join(download, 'named-outputs', 'model');
    return { folder, manifest: JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as ModelManifest };
  };
  const ended = (name: string): Promise<Job> =>
    waitFor(
      `${name} to end`,
      async () => {
        const job = await show(name);
        return ['Completed', 'Failed', 'Canceled'].includes(job.status) ? job : undefined;
      },
      120_000,
    );

  it('iris: --stream shows the trials as they finish and ends with the registered best model, its ONNX graph and its explanation', async () => {
    const created = await tessera('job', 'create', '--file', join(EXAMPLES, 'iris-classification.yml'), '--stream');
    assert.equal(created.code, 0, `${created.stdout}\n${created.stderr}`);
    const name = /Job (\S+) Completed/.exec(created.stderr)?.[1];
    assert.ok(name, created.stderr);
    assert.match(created.stdout, /_0 +LogisticRegression|_0 +\w+/, 'the first trial is reported');
    assert.match(created.stdout, /AUC_weighted \d\.\d+/);
    assert.match(created.stdout, /best: \S+ .*registered azureml:iris-automl:1/);

    const job = await show(name);
    assert.equal(job.type, 'automl');
    assert.equal(job.status, 'Completed');
    const board = job.trials?.leaderboard ?? [];
    assert.ok(board.length >= 5, `${board.length} scored trials`);
    assert.ok((board[0]?.value ?? 0) > 0.95, `best AUC_weighted ${board[0]?.value}`);
    assert.equal(job.automl?.best_model, 'azureml:iris-automl:1');
    const explanation = job.automl?.explanation;
    assert.ok(explanation !== undefined, 'the best model is explained');
    assert.equal(explanation.columns.length, 4);
    assert.match(explanation.columns[0]?.column ?? '', /^petal_/, 'a petal measurement matters most');

    // Every trial is a child job with its metrics in MLflow.
    const children = json<JobList>(await tessera('job', 'list', '--experiment', 'automl-iris'));
    assert.ok(children.value.some((j) => j.name === `${name}_setup` && j.parent === name));
    assert.ok(children.value.some((j) => j.name === `${name}_explain`));

    // The registered model: model.onnx + manifest.json, and the graph scores iris rows.
    const { folder, manifest } = await bestModel(job);
    assert.deepEqual(manifest.classes, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual(
      manifest.inputs.map((i) => i.column),
      ['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm'],
    );
    const session = await new OnnxModelRuntime().load(new Uint8Array(readFileSync(join(folder, 'model.onnx'))));
    const column = (name: string, values: number[]) => ({
      kind: 'numeric' as const,
      name,
      values: Float64Array.from(values),
    });
    const table = {
      rows: 2,
      columns: [
        column('sepal_length_cm', [5.1, 7.7]),
        column('sepal_width_cm', [3.5, 3.0]),
        column('petal_length_cm', [1.4, 6.1]),
        column('petal_width_cm', [0.2, 2.3]),
      ],
    };
    const out = await session.run(
      toOnnxFeeds(
        table,
        manifest.inputs.map((i) => inputSpec(i.column, i.encoding)),
      ),
    );
    assert.deepEqual(Array.from(out[manifest.outputs.label ?? 'label']?.data as string[]), ['setosa', 'virginica']);
    await session.close();
  });

  it('the same data, seed and max_trials without a timeout give the identical leaderboard and test metrics', async () => {
    const a = json<Job>(await tessera('job', 'create', '--file', 'repro.yml', '-o', 'json'));
    const b = json<Job>(await tessera('job', 'create', '--file', 'repro.yml', '-o', 'json'));
    const [doneA, doneB] = await Promise.all([ended(a.name), ended(b.name)]);
    assert.equal(doneA.status, 'Completed', JSON.stringify(doneA.error));
    assert.equal(doneB.status, 'Completed', JSON.stringify(doneB.error));
    const board = (j: Job) =>
      (j.trials?.leaderboard ?? []).map((e) => ({
        trial: e.name.slice(j.name.length),
        algorithm: e.algorithm,
        parameters: e.parameters,
        value: e.value,
      }));
    assert.ok(board(doneA).length >= 6);
    assert.deepEqual(board(doneB), board(doneA));
    // test_data_size: the seed holds out the same 89 of the 442 rows (ceil 0.2 × 442), and the best
    // model's test metrics are the same.
    const tested = (j: Job) => j.automl?.explanation;
    assert.equal(tested(doneA)?.holdout, 'the test_data_size 0.2 hold-out');
    assert.equal(tested(doneA)?.rows, 89);
    const r2 = tested(doneA)?.metrics?.r2_score;
    assert.ok(r2 !== undefined && r2 > 0.2 && r2 < 1, `test r2_score ${r2}`);
    assert.ok((tested(doneA)?.metrics?.normalized_root_mean_squared_error ?? 0) > 0);
    assert.deepEqual(tested(doneB)?.metrics, tested(doneA)?.metrics);
    const shown = await tessera('job', 'show', '-n', a.name, '-o', 'table');
    assert.match(shown.stdout, /Holdout metrics \(89 rows of the test_data_size 0\.2 hold-out\)/);
    assert.match(shown.stdout, /r2_score/);
  });

  for (const [file, pattern] of [
    ['unknown-target.yml', /no column 'species' \(target_column_name\); its columns are/],
    ['constant.yml', /has one class \('1'\).*needs at least two/],
    ['all-missing.yml', /'empty'.*(missing|empty)/i],
    ['few-rows.yml', /rows/i],
    ['string-in-number.yml', /abc|not a number|numeric/i],
  ] as const) {
    it(`bad data (${file.replace('.yml', '')}) fails the setup with a clear reason before any trial starts`, async () => {
      const created = json<Job>(await tessera('job', 'create', '--file', file, '-o', 'json'));
      const job = await ended(created.name);
      assert.equal(job.status, 'Failed');
      assert.equal(job.error?.code, 'DataCheckFailed');
      assert.match(job.error?.message ?? '', pattern);
      assert.equal(job.trials?.created ?? 0, 0, 'no trial ran');
    });
  }

  it('a canceled AutoML job cancels its running trials and ends Canceled', async () => {
    const created = json<Job>(
      await tessera(
        'job',
        'create',
        '--file',
        join(EXAMPLES, 'iris-classification.yml'),
        '--set',
        'outputs.best_model.name=iris-canceled',
        '-o',
        'json',
      ),
    );
    await waitFor(
      'a trial to run',
      async () => ((await show(created.name)).trials?.created ?? 0) > 0 || undefined,
      60_000,
    );
    assert.equal((await tessera('job', 'cancel', '-n', created.name)).code, 0);
    const job = await ended(created.name);
    assert.equal(job.status, 'Canceled');
    const children = json<JobList>(await tessera('job', 'list', '--experiment', 'automl-iris'));
    const mine = children.value.filter((j) => j.parent === created.name);
    assert.ok(mine.length > 0);
    for (const child of mine)
      assert.ok(['Completed', 'Canceled'].includes(child.status), `${child.name} ${child.status}`);
    assert.equal(job.automl?.best_model, undefined, 'nothing is registered');
  });

  it('cv_split_column_names, stack_meta_learner_type and max_cores_per_trial: the trials score on the given folds (boosting on two threads), the stack uses the named meta-learner', async () => {
    writeFileSync(
      join(specs, 'user-folds.yml'),
      [
        'type: automl',
        'task: classification',
        'experiment_name: automl-user-folds',
        'target_column_name: y',
        'primary_metric: AUC_weighted',
        'training_data:',
        '  type: mltable',
        '  path: ./user-folds',
        'cv_split_column_names: [f1, f2, f3]',
        'limits:',
        '  max_trials: 4',
        '  max_cores_per_trial: 2',
        'training:',
        '  allowed_training_algorithms: [LightGBM, LogisticRegression, DecisionTree, RandomForest]',
        '  stack_ensemble_settings:',
        '    stack_meta_learner_type: LightGBMClassifier',
        '    stack_meta_learner_k_wargs: {n_estimators: 20, num_leaves: 4}',
        '',
      ].join('\n'),
    );
    const created = json<Job>(await tessera('job', 'create', '--file', 'user-folds.yml', '-o', 'json'));
    const job = await ended(created.name);
    assert.equal(job.status, 'Completed', JSON.stringify(job.error));
    // The split columns are not features; the holdout is the first given fold's 40 validation rows.
    const explanation = job.automl?.explanation;
    assert.deepEqual(explanation?.columns.map((c) => c.column).sort(), ['x1', 'x2']);
    assert.equal(explanation?.holdout, 'cross-validation fold 1 of 3');
    assert.equal(explanation?.rows, 40);
    assert.ok((explanation?.metrics?.AUC_weighted ?? 0) > 0.8, JSON.stringify(explanation?.metrics));
    const stack = (job.trials?.leaderboard ?? []).find((e) => e.algorithm === 'StackEnsemble');
    assert.ok(stack !== undefined, 'the stack is on the leaderboard');
    const download = tempDir('automl-stack');
    const got = await tessera(
      'job',
      'download',
      '-n',
      stack.name,
      '--output-name',
      'model',
      '--download-path',
      download,
    );
    assert.equal(got.code, 0, got.stderr);
    const manifest = JSON.parse(
      readFileSync(join(download, 'named-outputs', 'model', 'manifest.json'), 'utf8'),
    ) as ModelManifest;
    assert.equal(manifest.params['metaLearner'], 'LightGBM');
    assert.equal(manifest.params['nEstimators'], 20);
  });

  it('specs Tessera cannot run are refused with a 400 naming the key', async () => {
    writeFileSync(
      join(specs, 'svm.yml'),
      readFileSync(join(EXAMPLES, 'iris-classification.yml'), 'utf8').replace(
        'training:\n',
        'training:\n  allowed_training_algorithms: [SVM]\n',
      ),
    );
    const refused = await tessera('job', 'create', '--file', 'svm.yml');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /SVM/);
  });

  /** The co2 example run to its end with `settings` (key=value) set; it must complete. */
  const co2Job = async (...settings: string[]): Promise<Job> => {
    const args = ['job', 'create', '--file', join(EXAMPLES, 'co2-forecasting.yml')];
    for (const setting of settings) args.push('--set', setting);
    const created = json<Job>(await tessera(...args, '-o', 'json'));
    const job = await ended(created.name);
    assert.equal(job.status, 'Completed', JSON.stringify(job.error));
    return job;
  };

  it('forecasting: target_aggregate_function turns the monthly co2 rows into quarterly means', async () => {
    const job = await co2Job(
      'forecasting.frequency=QS',
      'forecasting.target_aggregate_function=mean',
      'forecasting.forecast_horizon=4',
      'limits.max_trials=3',
      'outputs.best_model.name=co2-quarterly',
    );
    assert.ok(
      job.notices?.some((n) => /target_aggregate_function mean: \d+ rows aggregated into \d+ periods of QS/.test(n)),
      JSON.stringify(job.notices),
    );
    const { folder } = await bestModel(job);
    const model = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as ForecastModel;
    assert.equal(model.frequency.alias, 'QS');
    // The last quarter of the data starts on a quarter's first day.
    const last = new Date(model.series[0]?.lastTime ?? NaN);
    assert.deepEqual([last.getUTCMonth() % 3, last.getUTCDate()], [0, 1]);
  });

  it('forecasting: the co2 example completes with a registered forecasting model', async () => {
    const job = await co2Job('limits.max_trials=6');
    assert.equal(job.automl?.best_model, 'azureml:co2-forecast:1');
    assert.ok((job.trials?.leaderboard.length ?? 0) >= 3);

    // The registered forecaster is an ONNX graph too: (date) rows in, the forecasts of model.json out.
    const { folder, manifest } = await bestModel(job);
    assert.equal(manifest.task, 'forecasting');
    assert.deepEqual(
      manifest.inputs.map((i) => [i.column, i.encoding]),
      [['date', 'epoch-ms']],
    );
    const model = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as ForecastModel;
    const session = await new OnnxModelRuntime().load(new Uint8Array(readFileSync(join(folder, 'model.onnx'))));
    const out = await session.run(forecastFeeds(model, { timeColumn: 'date', seriesIdColumns: [] }, 12));
    const got = out.prediction?.data as Float64Array;
    const want = forecastValues(model, 12)[0] ?? new Float64Array();
    assert.equal(got.length, 12);
    want.forEach((v, h) => assert.ok(Math.abs((got[h] as number) - v) <= 1e-9 * Math.abs(v), `step ${h + 1}`));
    await session.close();

    // ... and deploys as it is registered: a no-code online deployment answers dates with forecasts.
    writeFileSync(join(specs, 'co2-endpoint.yml'), 'name: co2-ep\nauth_mode: key\n');
    writeFileSync(
      join(specs, 'co2-deployment.yml'),
      ['name: forecast', 'endpoint_name: co2-ep', 'model: azureml:co2-forecast:1', 'instance_count: 1', ''].join('\n'),
    );
    const last = model.series[0]?.lastTime ?? NaN;
    const dates = [3, 1, 12].map((h) => {
      const d = new Date(last);
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + h, 1)).toISOString();
    });
    writeFileSync(
      join(specs, 'co2-request.json'),
      JSON.stringify({ input_data: { columns: ['date'], data: dates.map((d) => [d]) } }),
    );
    json(await tessera('online-endpoint', 'create', '--file', 'co2-endpoint.yml', '-o', 'json'));
    json(await tessera('online-deployment', 'create', '--file', 'co2-deployment.yml', '--all-traffic', '-o', 'json'));
    const answered = json<number[]>(
      await tessera('online-endpoint', 'invoke', '--name', 'co2-ep', '--request-file', 'co2-request.json'),
    );
    assert.equal(answered.length, 3);
    [3, 1, 12].forEach((h, i) => {
      const v = want[h - 1] as number;
      assert.ok(Math.abs((answered[i] as number) - v) <= 1e-9 * Math.abs(v), `${dates[i]}: ${answered[i]} vs ${v}`);
    });
  });
});

// npm run bench -- automl --dataset <name|all> [--budget-seconds 60] [--concurrency 2] [--max-trials N]
// npm run bench -- automl --train <mltable-dir> --test <mltable-dir> --target <column> --task <task>
//                         [--time-column <column> --horizon <n>] [--budget-seconds N]
//
// Runs an AutoML job on a real host process (embedded default) exactly as a user would — the
// `tessera job create` CLI, the trial engine, the trainer — with `limits.timeout_minutes` set from
// the budget, then scores the registered best model on the holdout in this process (the ONNX
// graph through onnxruntime; forecasting: model.json's forecast, and the ONNX graph's answers for
// the same rows against it, `onnx_max_rel_diff`). Prints one JSON document:
// the holdout metrics under Azure ML's names plus rmse, smape and mase, the trials run, the wall
// time, and — for the datasets of ../shared/datasets — the peers' holdout figures recorded on this
// machine (../shared/peers/results: scikit-learn and XGBoost defaults, Optuna-tuned XGBoost with
// 60 s, statsmodels) with the comparisons issue 5 asks for.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OnnxModelRuntime } from '../shared/adapters/onnx-runtime.js';
import type { Job } from '../shared/contracts/job.js';
import { splitTarget } from '../shared/ml/data/collect-table.js';
import type { ModelManifest } from '../shared/ml/automl/types.js';
import { parse as parseYaml } from 'yaml';
import { parseSpec } from '../shared/contracts/azureml/index.js';
import type { AutomlJobSpec } from '../shared/contracts/azureml/index.js';
import { evaluateHoldout } from '../shared/ml/automl/forecast-trial.js';
import type { ForecastModel } from '../shared/ml/automl/forecast-model.js';
import { forecastValues } from '../shared/ml/automl/forecast-model.js';
import { periodsBetween } from '../shared/ml/forecast/frequency.js';
import { largestRelativeDifference } from '../shared/ml/onnx/agreement.js';
import type { Table } from '../shared/ml/types.js';
import { resolveAutomlSettings } from '../shared/ml/automl/settings.js';
import { inputSpec, toOnnxFeeds } from '../shared/ml/featurize/onnx-io.js';
import { classificationMetrics, encodeLabels, regressionMetrics } from '../shared/ml/metrics.js';
import { startHostProcess } from '../test/support/host-process.js';
import { readLocalTable } from '../trainer/automl/local-table.js';
import { DATASETS, SHARED, datasets, materialize } from './support/datasets.js';

const run = promisify(execFile);
const PEERS = join(SHARED, 'peers', 'results');
const CLI = resolve('dist/cli/tessera.js');

interface Args {
  dataset?: string;
  train?: string;
  test?: string;
  target?: string;
  task?: string;
  timeColumn?: string;
  horizon?: number;
  budgetSeconds: number;
  concurrency: number;
  maxTrials?: number;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string): number | undefined => {
    const v = get(flag);
    return v === undefined ? undefined : Number(v);
  };
  const args: Args = { budgetSeconds: num('--budget-seconds') ?? 60, concurrency: num('--concurrency') ?? 2 };
  for (const [flag, key] of [
    ['--dataset', 'dataset'],
    ['--train', 'train'],
    ['--test', 'test'],
    ['--target', 'target'],
    ['--task', 'task'],
    ['--time-column', 'timeColumn'],
  ] as const) {
    const v = get(flag);
    if (v !== undefined) args[key] = v;
  }
  const horizon = num('--horizon');
  if (horizon !== undefined) args.horizon = horizon;
  const maxTrials = num('--max-trials');
  if (maxTrials !== undefined) args.maxTrials = maxTrials;
  if (
    args.dataset === undefined &&
    (args.train === undefined || args.test === undefined || args.target === undefined)
  ) {
    throw new Error(
      'usage: npm run bench -- automl --dataset <name|all> | --train DIR --test DIR --target COL --task TASK [--time-column C --horizon N] [--budget-seconds N]',
    );
  }
  return args;
}

interface Target {
  name: string;
  task: 'classification' | 'regression' | 'forecasting';
  target: string;
  train: string;
  test: string;
  timeColumn?: string;
  horizon?: number;
  frequency?: string;
  seriesIds?: string[];
  /** The season MASE is scaled by (the peers use the dataset's). */
  season?: number;
}

function specYaml(t: Target, args: Args): string {
  const lines = [
    'type: automl',
    `task: ${t.task}`,
    `experiment_name: bench-automl-${t.name}`,
    `target_column_name: ${t.target}`,
    `primary_metric: ${t.task === 'classification' ? 'AUC_weighted' : 'normalized_root_mean_squared_error'}`,
    'training_data:',
    '  type: mltable',
    '  path: ./train',
    'limits:',
    `  timeout_minutes: ${Math.max(1, Math.ceil(args.budgetSeconds / 60))}`,
    `  max_concurrent_trials: ${args.concurrency}`,
    ...(args.maxTrials === undefined ? [] : [`  max_trials: ${args.maxTrials}`]),
  ];
  if (t.task === 'forecasting') {
    lines.push('forecasting:', `  time_column_name: ${t.timeColumn ?? 'date'}`);
    if (t.horizon !== undefined) lines.push(`  forecast_horizon: ${t.horizon}`);
    if (t.frequency !== undefined) lines.push(`  frequency: ${t.frequency}`);
    if (t.seriesIds !== undefined && t.seriesIds.length > 0) {
      lines.push(`  time_series_id_column_names: [${t.seriesIds.join(', ')}]`);
    }
  }
  return lines.join('\n') + '\n';
}

async function cli(dataDir: string, cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, TESSERA_DATA_DIR: dataDir, TESSERA_TOKEN: '', TESSERA_ENDPOINT: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number, digits = 6): number => Number(v.toPrecision(digits));

async function holdoutMetrics(t: Target, args: Args, modelDir: string, seed: number): Promise<Record<string, number>> {
  const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as ModelManifest & {
    format: string;
  };
  const table = await readLocalTable(t.test, 'test_data', seed);
  if (t.task === 'forecasting') {
    const model = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as ForecastModel;
    const settings = resolveAutomlSettings(parseSpec('job', parseYaml(specYaml(t, args))) as AutomlJobSpec);
    const metrics = evaluateHoldout(model, table, settings, t.season === undefined ? {} : { seasonLength: t.season });
    return {
      ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, round(v as number)])),
      onnx_max_rel_diff: await forecastOnnxDisagreement(modelDir, manifest, model, table),
    };
  }
  const { features, y } = splitTarget(table, t.target, t.task);
  const runtime = new OnnxModelRuntime();
  const session = await runtime.load(new Uint8Array(readFileSync(join(modelDir, 'model.onnx'))));
  try {
    const specs = manifest.inputs.map((i) => inputSpec(i.column, i.encoding));
    const result = await session.run(toOnnxFeeds(features, specs));
    if (t.task === 'classification') {
      const classes = manifest.classes ?? [];
      const proba = Float64Array.from(result.probabilities?.data as ArrayLike<number>);
      const m = classificationMetrics({
        yTrue: encodeLabels(y as string[], classes),
        proba: { rows: features.rows, cols: classes.length, data: proba },
      });
      return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)]));
    }
    const pred = Float64Array.from(result.prediction?.data as ArrayLike<number>);
    const yTrue = y as Float64Array;
    const m = regressionMetrics({ yTrue, yPred: pred });
    let se = 0;
    let sape = 0;
    for (let i = 0; i < yTrue.length; i++) {
      const a = yTrue[i] as number;
      const f = pred[i] as number;
      se += (a - f) ** 2;
      // sMAPE as ../shared/peers/forecast_baselines.py defines it (0 where both values are 0).
      const denominator = Math.abs(a) + Math.abs(f);
      sape += denominator === 0 ? 0 : (2 * Math.abs(a - f)) / denominator;
    }
    return {
      ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)])),
      rmse: round(Math.sqrt(se / yTrue.length)),
      smape: round((100 * sape) / yTrue.length),
    };
  } finally {
    await session.close();
  }
}

/**
 * The registered forecaster's ONNX graph on the holdout rows, against model.json's forecasts for
 * the same series and periods: the largest relative difference (what a deployment would answer).
 */
async function forecastOnnxDisagreement(
  modelDir: string,
  manifest: ModelManifest,
  model: ForecastModel,
  table: Table,
): Promise<number> {
  const session = await new OnnxModelRuntime().load(new Uint8Array(readFileSync(join(modelDir, 'model.onnx'))));
  try {
    const specs = manifest.inputs.map((i) => inputSpec(i.column, i.encoding));
    const got = (await session.run(toOnnxFeeds(table, specs))).prediction?.data as Float64Array;
    const time = table.columns.find((c) => c.name === manifest.forecast?.timeColumn)?.values as Float64Array;
    const ids = (manifest.forecast?.seriesIdColumns ?? []).map(
      (name) => table.columns.find((c) => c.name === name)?.values as readonly (string | number | null)[],
    );
    const index = new Map(model.series.map((s, i) => [JSON.stringify(s.ids), i]));
    const steps = Array.from({ length: table.rows }, (_, r) => {
      const i = index.get(JSON.stringify(ids.map((c) => String(c[r] ?? '')))) ?? -1;
      const s = model.series[i];
      return s === undefined ? { i, h: 0 } : { i, h: periodsBetween(s.lastTime, time[r] as number, model.frequency) };
    });
    const values = forecastValues(model, Math.max(1, ...steps.map((s) => s.h)));
    // A holdout row the model cannot answer counts as a disagreement (NaN against a number).
    const want = steps.map(({ i, h }) => values[i]?.[h - 1] ?? 0);
    return largestRelativeDifference(want, got);
  } finally {
    await session.close();
  }
}

/** The peers' recorded holdout figures for a dataset of ../shared/datasets, and how Tessera compares. */
function comparePeers(t: Target, holdout: Record<string, number>): Record<string, unknown> | undefined {
  if (t.task === 'forecasting') {
    const file = join(PEERS, `forecast_baselines.${t.name}.json`);
    if (!existsSync(file)) return undefined;
    const peers = JSON.parse(readFileSync(file, 'utf8')) as { models: Record<string, Record<string, number>> };
    const sn = peers.models.seasonal_naive;
    const hw = [peers.models.holt_winters, peers.models.holt_winters_damped].filter((m) => m !== undefined);
    const bestHw = Math.min(...hw.map((m) => m.mase ?? Infinity));
    return {
      source: file,
      seasonal_naive: sn,
      holt_winters: peers.models.holt_winters,
      holt_winters_damped: peers.models.holt_winters_damped,
      beats_seasonal_naive:
        sn !== undefined &&
        (holdout.smape ?? Infinity) < (sn.smape ?? 0) &&
        (holdout.mase ?? Infinity) < (sn.mase ?? 0),
      matches_holt_winters_mase: (holdout.mase ?? Infinity) <= bestHw,
    };
  }
  const file = join(PEERS, `tabular_baselines.${t.name}.json`);
  if (!existsSync(file)) return undefined;
  const peers = JSON.parse(readFileSync(file, 'utf8')) as { models: Record<string, Record<string, number>> };
  const defaults = ['logistic_regression', 'ridge', 'random_forest', 'hist_gradient_boosting', 'xgboost'];
  const optuna = peers.models.optuna_xgb;
  if (t.task === 'classification') {
    const best = Math.max(...defaults.map((m) => peers.models[m]?.auc ?? -Infinity));
    const ours = holdout.AUC_weighted ?? NaN;
    return {
      source: file,
      metric: 'AUC_weighted (peers: auc, weighted one-vs-rest)',
      best_default: best,
      optuna_xgb: optuna?.auc,
      matches_or_beats_best_default: ours >= best,
      within_1pct_of_optuna: optuna?.auc === undefined ? undefined : ours >= optuna.auc * 0.99,
    };
  }
  const best = Math.min(...defaults.map((m) => peers.models[m]?.rmse ?? Infinity));
  const ours = holdout.rmse ?? NaN;
  return {
    source: file,
    metric: 'rmse',
    best_default: best,
    optuna_xgb: optuna?.rmse,
    matches_or_beats_best_default: ours <= best,
    within_1pct_of_optuna: optuna?.rmse === undefined ? undefined : ours <= optuna.rmse * 1.01,
  };
}

async function benchOne(dataDir: string, t: Target, args: Args, work: string) {
  writeFileSync(join(work, 'automl.yml'), specYaml(t, args));
  const t0 = performance.now();
  const created = JSON.parse(await cli(dataDir, work, 'job', 'create', '--file', 'automl.yml', '-o', 'json')) as Job;
  let job = created;
  while (!['Completed', 'Failed', 'Canceled'].includes(job.status)) {
    await sleep(500);
    job = JSON.parse(await cli(dataDir, work, 'job', 'show', '-n', created.name, '-o', 'json')) as Job;
  }
  const wall = (performance.now() - t0) / 1000;
  const board = job.trials?.leaderboard ?? [];
  const result: Record<string, unknown> = {
    dataset: t.name,
    task: t.task,
    budget_seconds: args.budgetSeconds,
    wall_seconds: round(wall, 4),
    status: job.status,
    trials_run: job.trials?.created ?? 0,
    trials_scored: board.length,
    ...(job.error === undefined ? {} : { error: job.error }),
  };
  const best = board.find((e) => e.name === job.trials?.best) ?? board[0];
  if (job.status !== 'Completed' || best === undefined) return result;
  // Where the budget went: each scored trial's algorithm, score and run time, in the order they started.
  const trials = await Promise.all(
    board.map(async (e) => ({
      entry: e,
      job: JSON.parse(await cli(dataDir, work, 'job', 'show', '-n', e.name, '-o', 'json')) as Job,
    })),
  );
  const startOf = (j: Job): number => j.startedAt ?? j.createdAt;
  const timeline = trials
    .sort((a, b) => startOf(a.job) - startOf(b.job))
    .map(({ entry, job: trial }) => {
      const seconds = ((trial.endedAt ?? startOf(trial)) - startOf(trial)) / 1000;
      const at = (startOf(trial) - startOf(job)) / 1000;
      return `+${at.toFixed(1)}s ${entry.algorithm ?? ''} ${round(entry.value)} in ${seconds.toFixed(1)}s`;
    });
  // Then the explanation (tabular tasks) and the job's end: the rest of the wall time.
  const explained = await cli(dataDir, work, 'job', 'show', '-n', `${job.name}_explain`, '-o', 'json').then(
    (text) => JSON.parse(text) as Job,
    () => undefined,
  );
  if (explained !== undefined) {
    const at = (startOf(explained) - startOf(job)) / 1000;
    const seconds = ((explained.endedAt ?? startOf(explained)) - startOf(explained)) / 1000;
    timeline.push(`+${at.toFixed(1)}s explanation in ${seconds.toFixed(1)}s`);
  }
  timeline.push(`+${(((job.endedAt ?? startOf(job)) - startOf(job)) / 1000).toFixed(1)}s the job ended`);
  const download = join(work, 'best');
  await cli(dataDir, work, 'job', 'download', '-n', best.name, '--output-name', 'model', '--download-path', download);
  const modelDir = join(download, 'named-outputs', 'model');
  const holdout = await holdoutMetrics(t, args, modelDir, 0);
  return {
    ...result,
    best: { trial: best.name, algorithm: best.algorithm, [job.trials?.primary_metric ?? 'score']: best.value },
    leaderboard_top: board.slice(0, 8).map((e) => `${e.algorithm ?? ''} ${round(e.value)}`),
    timeline,
    trials_by_algorithm: Object.fromEntries(
      [...new Set(board.map((e) => e.algorithm ?? ''))].map((a) => [a, board.filter((e) => e.algorithm === a).length]),
    ),
    registered: job.automl?.best_model,
    holdout,
    peers: comparePeers(t, holdout),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const targets: Target[] = [];
  const work = mkdtempSync(join(tmpdir(), 'tessera-bench-automl-'));
  if (args.dataset !== undefined) {
    const all = datasets();
    const chosen = args.dataset === 'all' ? all : all.filter((d) => d.name === args.dataset);
    if (chosen.length === 0) throw new Error(`dataset ${args.dataset} is not in ${join(DATASETS, 'datasets.json')}`);
    for (const info of chosen) {
      const dir = join(work, info.name);
      const { train, test } = materialize(info, dir);
      targets.push({
        name: info.name,
        task: info.task,
        target: info.target,
        train,
        test,
        ...(info.time_column === undefined ? {} : { timeColumn: info.time_column }),
        ...(info.horizon === undefined ? {} : { horizon: info.horizon }),
        ...(info.frequency === undefined ? {} : { frequency: info.frequency }),
        ...(info.series_id_columns === undefined ? {} : { seriesIds: info.series_id_columns }),
        ...(info.season_length === undefined ? {} : { season: info.season_length }),
      });
    }
  } else {
    const dir = join(work, 'custom');
    mkdirSync(dir, { recursive: true });
    targets.push({
      name: 'custom',
      task: (args.task ?? 'classification') as Target['task'],
      target: args.target ?? '',
      train: resolve(args.train ?? ''),
      test: resolve(args.test ?? ''),
      ...(args.timeColumn === undefined ? {} : { timeColumn: args.timeColumn }),
      ...(args.horizon === undefined ? {} : { horizon: args.horizon }),
    });
  }
  const dataDir = join(work, 'host');
  const host = await startHostProcess({ dataDir, timeoutMs: 60_000 });
  const results: unknown[] = [];
  try {
    for (const t of targets) {
      const dir = join(work, `${t.name}-job`);
      mkdirSync(dir, { recursive: true });
      // The spec names ./train: give the job folder its own copy of the training MLTable.
      cpSync(t.train, join(dir, 'train'), { recursive: true });
      results.push(await benchOne(dataDir, t, args, dir));
    }
  } finally {
    await host.stop('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'automl', machine: { cpus: (await import('node:os')).cpus().length }, results: results.length === 1 ? results[0] : results }, null, 2)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

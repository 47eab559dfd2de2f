import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureImportance } from '../../shared/contracts/job.js';
import { ValidationError } from '../../shared/errors.js';
import { prepareDataset } from '../../shared/ml/automl/dataset.js';
import { fitStackEnsemble, oofMetrics, oofTarget, selectVoteEnsemble } from '../../shared/ml/automl/ensemble.js';
import type { StackOptions } from '../../shared/ml/automl/ensemble.js';
import { decodeForecast, encodeForecast, prepareForecast } from '../../shared/ml/automl/forecast-data.js';
import type { PreparedForecast } from '../../shared/ml/automl/forecast-data.js';
import type { ForecastModel } from '../../shared/ml/automl/forecast-model.js';
import {
  exportForecastOnnx,
  forecastFeeds,
  forecastFlat,
  forecastManifest,
} from '../../shared/ml/automl/forecast-onnx.js';
import { largestRelativeDifference } from '../../shared/ml/onnx/agreement.js';
import { runForecastTrial } from '../../shared/ml/automl/forecast-trial.js';
import { permutationImportance } from '../../shared/ml/automl/importance.js';
import { exportPipeline, predictPipeline } from '../../shared/ml/automl/pipeline.js';
import { fitPipeline, holdoutOf, singleOrVoteOfManifest, tableRows } from '../../shared/ml/automl/refit.js';
import type { HeadSpec } from '../../shared/ml/automl/refit.js';
import { CV_STANDARD_ERROR } from '../../shared/ml/automl/selection.js';
import { decodePrepared, encodePrepared } from '../../shared/ml/automl/snapshot.js';
import { foldMeanMetrics, runTrial } from '../../shared/ml/automl/trial.js';
import type {
  AutomlSettings,
  FittedPipeline,
  ModelManifest,
  PreparedDataset,
  TrialConfig,
} from '../../shared/ml/automl/types.js';
import { SETUP_NOTICES_FILE } from '../../shared/ml/automl/types.js';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { toOnnxFeeds } from '../../shared/ml/featurize/onnx-io.js';
import type { Table } from '../../shared/ml/types.js';
import { readLocalTable } from './local-table.js';
import { logToRun } from './mlflow-log.js';

const DATASET_FILE = 'dataset.bin';
const FORECAST_FILE = 'forecast.bin';
const MODEL_FILE = 'model.onnx';
const FORECAST_MODEL_FILE = 'model.json';
const MANIFEST_FILE = 'manifest.json';
const OOF_FILE = 'oof.bin';
const MEMBERS_OOF_FILE = 'members-oof.bin';
/** Rows of the training data scored through onnxruntime after each export, as a check. */
const ONNX_CHECK_ROWS = 200;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

// ---------------------------------------------------------------------------------------------
// setup

export interface SetupArgs {
  settings: unknown;
  trainingData: string;
  validationData: string | undefined;
  testData: string | undefined;
  output: string;
}

/** Prints the setup's notices and writes them for the job (SETUP_NOTICES_FILE). */
async function writeNotices(output: string, notices: readonly string[]): Promise<void> {
  for (const notice of notices) out(`notice: ${notice}`);
  await writeFile(join(output, SETUP_NOTICES_FILE), `${JSON.stringify(notices)}\n`);
}

export async function runSetup(args: SetupArgs): Promise<void> {
  const settings = args.settings as AutomlSettings;
  const started = performance.now();
  const train = await readLocalTable(args.trainingData, 'training_data', settings.seed);
  out(`training_data: ${train.rows} rows, ${train.columns.length} columns`);
  await mkdir(args.output, { recursive: true });
  if (settings.task === 'forecasting') {
    if (args.validationData !== undefined || args.testData !== undefined) {
      throw new ValidationError(
        'validation_data and test_data are not used by forecasting: trials are scored by rolling-origin backtests on training_data.',
        { target: 'validation_data' },
      );
    }
    const prepared = prepareForecast(settings, train);
    await writeFile(join(args.output, FORECAST_FILE), encodeForecast(prepared));
    await writeNotices(args.output, prepared.notices);
    const seasonal = prepared.series.some((series) => series.seasonLength > 1);
    await logToRun({ metrics: { rows: train.rows, seasonal: seasonal ? 1 : 0, setup_seconds: seconds(started) } });
    out(`prepared the forecasting data in ${seconds(started).toFixed(2)} s`);
    return;
  }
  const validation =
    args.validationData === undefined
      ? undefined
      : await readLocalTable(args.validationData, 'validation_data', settings.seed);
  const test =
    args.testData === undefined ? undefined : await readLocalTable(args.testData, 'test_data', settings.seed);
  const prepared = prepareDataset(settings, train, validation, test);
  await writeFile(join(args.output, DATASET_FILE), encodePrepared(prepared));
  out('featurization:');
  for (const c of prepared.featurization.columns) {
    out(
      `  ${c.name}: ${c.purpose} (${c.reason}) → ${c.transformers.join(', ') || 'nothing'}, ${c.features} feature(s)`,
    );
  }
  for (const note of prepared.featurization.notes) out(`  note: ${note}`);
  await writeNotices(args.output, prepared.notices);
  const features = prepared.featurization.columns.reduce((s, c) => s + c.features, 0);
  out(
    `validation: ${prepared.folds.length === 1 ? 'one train/validation split' : `${prepared.folds.length}-fold cross-validation`}; ` +
      `${prepared.features.rows} training rows${prepared.test === undefined ? '' : `, ${prepared.test.features.rows} test rows`}`,
  );
  await logToRun({
    metrics: {
      rows: prepared.features.rows,
      features,
      folds: prepared.folds.length,
      setup_seconds: seconds(started),
      ...(prepared.classes === undefined ? {} : { classes: prepared.classes.length }),
    },
    tags: { 'automl.featurization': JSON.stringify(prepared.featurization.columns.map((c) => [c.name, c.purpose])) },
  });
}

// ---------------------------------------------------------------------------------------------
// trial

async function loadPrepared(dir: string): Promise<PreparedDataset> {
  return decodePrepared(new Uint8Array(await readFile(join(dir, DATASET_FILE))));
}

async function isForecast(dir: string): Promise<boolean> {
  return readFile(join(dir, FORECAST_FILE)).then(
    () => true,
    () => false,
  );
}

/** Writes model.onnx and manifest.json (and checks the graph against TypeScript on training rows). */
async function writePipeline(
  dir: string,
  data: PreparedDataset,
  pipeline: FittedPipeline,
  score: number | undefined,
): Promise<{ manifest: ModelManifest; onnxMaxRelDiff: number }> {
  const { onnx, manifest } = exportPipeline(pipeline, {
    target: data.settings.targetColumn,
    primaryMetric: data.settings.primaryMetric,
    ...(score === undefined ? {} : { score }),
    featurization: data.featurization,
    trainingRows: data.features.rows,
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MODEL_FILE), onnx);
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  const onnxMaxRelDiff = await checkOnnx(onnx, pipeline, data.features);
  return { manifest, onnxMaxRelDiff };
}

/** The largest relative difference between onnxruntime and TypeScript on the first rows. */
async function checkOnnx(onnx: Uint8Array, pipeline: FittedPipeline, table: Table): Promise<number> {
  const rows = Math.min(ONNX_CHECK_ROWS, table.rows);
  const head = tableRows(
    table,
    Int32Array.from({ length: rows }, (_, r) => r),
  );
  const runtime = new OnnxModelRuntime();
  const session = await runtime.load(onnx);
  try {
    const feeds = toOnnxFeeds(head, pipeline.featurizer.onnxInputs);
    const result = await session.run(feeds);
    const expected = predictPipeline(pipeline, head);
    const want = expected.probabilities ?? expected.prediction ?? new Float64Array();
    const name = expected.probabilities === undefined ? 'prediction' : 'probabilities';
    const got = result[name]?.data as ArrayLike<number> | undefined;
    if (got === undefined || got.length !== want.length) {
      throw new Error(`the exported ONNX graph's '${name}' output has the wrong shape`);
    }
    return largestRelativeDifference(want, got);
  } finally {
    await session.close();
  }
}

/**
 * Runs the exported forecasting graph for the horizon of every series and returns its largest
 * relative difference from the TypeScript forecaster (an export that disagrees by more than 1e-5
 * fails the trial).
 */
async function forecastOnnxAgreement(model: ForecastModel, onnx: Uint8Array, data: PreparedForecast): Promise<number> {
  const session = await new OnnxModelRuntime().load(onnx);
  try {
    const result = await session.run(forecastFeeds(model, data, model.horizon));
    const got = result.prediction?.data as ArrayLike<number> | undefined;
    if (got === undefined) throw new Error("the exported forecasting graph has no 'prediction' output");
    const worst = largestRelativeDifference(forecastFlat(model, model.horizon), got);
    if (!(worst <= 1e-5)) {
      throw new Error(`the exported forecasting graph disagrees with the TypeScript model by ${worst} (relative)`);
    }
    return worst;
  } finally {
    await session.close();
  }
}

export async function runTrialCommand(args: { prepared: string; config: unknown; output: string }): Promise<void> {
  const config = args.config as TrialConfig;
  out(`trial: ${config.algorithm} ${JSON.stringify(config.params)}`);
  await mkdir(args.output, { recursive: true });
  if (await isForecast(args.prepared)) {
    const data = decodeForecast(new Uint8Array(await readFile(join(args.prepared, FORECAST_FILE))));
    const started = performance.now();
    const outcome = runForecastTrial(data, config);
    const fitSeconds = seconds(started);
    const onnx = exportForecastOnnx(outcome.model, data);
    const onnxMaxRelDiff = await forecastOnnxAgreement(outcome.model, onnx, data);
    await writeFile(join(args.output, FORECAST_MODEL_FILE), JSON.stringify(outcome.model));
    await writeFile(join(args.output, MODEL_FILE), onnx);
    await writeFile(
      join(args.output, MANIFEST_FILE),
      `${JSON.stringify(forecastManifest(outcome.model, data, outcome.score), null, 2)}\n`,
    );
    await logToRun({
      metrics: { ...outcome.metrics, fit_seconds: fitSeconds, onnx_max_rel_diff: onnxMaxRelDiff },
      params: { algorithm: config.algorithm, ...config.params },
    });
    out(
      `${data.settings.primaryMetric}: ${outcome.score} (${fitSeconds.toFixed(2)} s; ONNX agrees within ${onnxMaxRelDiff.toExponential(1)})`,
    );
    return;
  }
  const data = await loadPrepared(args.prepared);
  const outcome = runTrial(data, config);
  const { onnxMaxRelDiff } = await writePipeline(args.output, data, outcome.pipeline, outcome.score);
  await writeFile(
    join(args.output, OOF_FILE),
    new Uint8Array(outcome.oof.buffer, outcome.oof.byteOffset, outcome.oof.byteLength),
  );
  await logToRun({
    metrics: {
      ...outcome.metrics,
      fit_seconds: outcome.seconds,
      onnx_max_rel_diff: onnxMaxRelDiff,
      ...(Number.isFinite(outcome.standardError) ? { [CV_STANDARD_ERROR]: outcome.standardError } : {}),
    },
    params: { algorithm: config.algorithm, ...config.params },
  });
  for (const [k, v] of Object.entries(outcome.metrics)) out(`  ${k}: ${v}`);
  out(
    `${data.settings.primaryMetric}: ${outcome.score} (${outcome.seconds.toFixed(2)} s; ONNX agrees within ${onnxMaxRelDiff.toExponential(1)})`,
  );
}

// ---------------------------------------------------------------------------------------------
// ensembles

/** The stack's options from the job's settings: the explanation refits the meta-learner with the same ones. */
function stackOptions(data: PreparedDataset): StackOptions {
  const { seed, primaryMetric: metric, stackMetaLearner } = data.settings;
  return { seed, metric, ...(stackMetaLearner === undefined ? {} : { metaLearner: stackMetaLearner }) };
}

async function readMember(dir: string): Promise<{ manifest: ModelManifest; oof: Float64Array }> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  const bytes = await readFile(join(dir, OOF_FILE));
  const oof = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { manifest, oof };
}

export async function runEnsemble(args: {
  kind: 'vote' | 'stack';
  prepared: string;
  members: readonly string[];
  output: string;
}): Promise<void> {
  const data = await loadPrepared(args.prepared);
  const started = performance.now();
  const members = await Promise.all(args.members.map(readMember));
  const configs: TrialConfig[] = members.map((m) => ({ algorithm: m.manifest.algorithm, params: m.manifest.params }));
  const metric = data.settings.primaryMetric;
  const input = oofTarget(data);
  const oofs = members.map((m) => m.oof);
  let pipeline: FittedPipeline;
  let score: number;
  let oof: Float64Array;
  if (args.kind === 'vote') {
    const selection = selectVoteEnsemble(input, oofs, metric);
    const chosen = configs
      .map((config, i) => ({ config, weight: selection.weights[i] ?? 0 }))
      .filter((m) => m.weight > 0);
    out(`VotingEnsemble: ${chosen.map((m) => `${m.config.algorithm} × ${m.weight.toFixed(3)}`).join(', ')}`);
    pipeline = fitPipeline(data, { kind: 'vote', members: chosen });
    score = selection.score;
    oof = selection.oof;
  } else {
    const stack = fitStackEnsemble(input, oofs, stackOptions(data));
    out(`StackEnsemble: ${configs.map((c) => c.algorithm).join(', ')} → ${stack.metaConfig.algorithm}`);
    pipeline = fitPipeline(data, { kind: 'stack', members: configs, meta: stack.meta, metaConfig: stack.metaConfig });
    score = stack.score;
    oof = stack.oof;
  }
  // Scored as trials are (each fold's rows, then the mean), not on the pooled predictions the selection used.
  const metrics = foldMeanMetrics(data, data.task === 'classification' ? { probabilities: oof } : { prediction: oof });
  score = metrics[metric] ?? score;
  const { onnxMaxRelDiff } = await writePipeline(args.output, data, pipeline, score);
  await writeFile(join(args.output, OOF_FILE), new Uint8Array(oof.buffer, oof.byteOffset, oof.byteLength));
  if (args.kind === 'stack') {
    // The explanation refits the meta-learner from these (fitStackEnsemble is deterministic).
    const all = new Float64Array(oofs.reduce((s, o) => s + o.length, 0));
    let at = 0;
    for (const o of oofs) {
      all.set(o, at);
      at += o.length;
    }
    await writeFile(join(args.output, MEMBERS_OOF_FILE), new Uint8Array(all.buffer));
  }
  await logToRun({
    metrics: { ...metrics, fit_seconds: seconds(started), onnx_max_rel_diff: onnxMaxRelDiff },
    params: {
      algorithm: args.kind === 'vote' ? 'VotingEnsemble' : 'StackEnsemble',
      members: configs.map((c) => c.algorithm).join(','),
    },
  });
  out(`${metric}: ${score}`);
}

// ---------------------------------------------------------------------------------------------
// explanation

/** The head a model folder describes; a stack's meta-learner is fitted again from its members' out-of-fold predictions. */
async function headOf(dir: string, manifest: ModelManifest, data: PreparedDataset): Promise<HeadSpec> {
  const head = singleOrVoteOfManifest(manifest);
  if (head !== undefined) return head;
  const members = (manifest.members ?? []).map((m) => ({ algorithm: m.algorithm, params: m.params }));
  const bytes = await readFile(join(dir, MEMBERS_OOF_FILE));
  const all = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const size = all.length / Math.max(1, members.length);
  const oofs = members.map((_, i) => all.subarray(i * size, (i + 1) * size));
  const stack = fitStackEnsemble(oofTarget(data), oofs, stackOptions(data));
  return { kind: 'stack', members, meta: stack.meta, metaConfig: stack.metaConfig };
}

export async function runExplain(args: { prepared: string; model: string; output: string }): Promise<void> {
  const data = await loadPrepared(args.prepared);
  const manifest = JSON.parse(await readFile(join(args.model, MANIFEST_FILE), 'utf8')) as ModelManifest;
  const started = performance.now();
  const holdout = holdoutOf(data);
  out(`explaining ${manifest.algorithm} on ${holdout.rows} holdout rows (${holdout.source})`);
  const pipeline = fitPipeline(data, await headOf(args.model, manifest, data), holdout.trainRows);
  // Every metric on every holdout row: with test_data (or test_data_size), the test run's metrics.
  const target = oofTarget(data, {
    y: holdout.y,
    ...(holdout.weights === undefined ? {} : { weights: holdout.weights }),
  });
  const predicted = predictPipeline(pipeline, holdout.table);
  const values = data.task === 'regression' ? predicted.prediction : predicted.probabilities;
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(values === undefined ? {} : oofMetrics(target, values))) {
    if (typeof value === 'number' && Number.isFinite(value)) metrics[name] = value;
  }
  const result = permutationImportance({
    table: holdout.table,
    y: holdout.y,
    task: data.task,
    metric: data.settings.primaryMetric,
    ...(data.classes === undefined ? {} : { classes: data.classes }),
    ...(holdout.weights === undefined ? {} : { weights: holdout.weights }),
    ...(data.yMin === undefined ? {} : { yMin: data.yMin }),
    ...(data.yMax === undefined ? {} : { yMax: data.yMax }),
    predict: (t) => predictPipeline(pipeline, t),
    seed: data.settings.seed,
  });
  const importance: FeatureImportance = {
    metric: result.metric,
    baseline: result.baseline,
    holdout: holdout.source,
    rows: holdout.rows,
    metrics,
    columns: result.columns,
  };
  await mkdir(args.output, { recursive: true });
  await writeFile(join(args.output, 'importance.json'), `${JSON.stringify(importance, null, 2)}\n`);
  for (const c of result.columns.slice(0, 20)) {
    out(`  ${c.column}: ${c.importance.toFixed(6)} ± ${c.std.toFixed(6)}`);
  }
  await logToRun({
    metrics: {
      explain_seconds: seconds(started),
      ...Object.fromEntries(Object.entries(metrics).map(([name, value]) => [`holdout_${name}`, value])),
    },
  });
}

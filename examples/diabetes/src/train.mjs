#!/usr/bin/env node
// Ridge regression on the diabetes data with Node >= 20 and no dependencies.
//
// train.py is the same program in Python: same arguments, same split, same arithmetic in the same
// order, same outputs. Keep the two in step; the e2e test checks they agree to 1e-9. Numbers are
// parsed only when they look like decimal numbers, because Number() and float() disagree on the
// rest ('' is 0 here, 'inf' is a float there).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/* global fetch, AbortSignal -- Node >= 18 globals, not among those the repo's ESLint config lists */

const TARGET = 'target';
const UINT32_MAX = 0xffffffff;
// rmse_by_log_alpha step s is the fit with alpha * 10^(s - 3). Literals, not 10 ** k: pow() may
// round differently in Python and Node.
const ALPHA_PATH_MULTIPLIERS = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0];
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A bad argument or input file: exit status 2. */
class UsageError extends Error {}
/** Training or logging failed: exit status 1. */
class TrainError extends Error {}

const HELP = `usage: train.mjs --training-data PATH --model-output DIR [--alpha A] [--test-size F] [--seed N]

Fit ridge regression to the diabetes data.

  --training-data  a CSV file, or a folder holding exactly one
  --alpha          L2 strength on standardized features (default 0.1)
  --test-size      fraction of rows held out (default 0.2)
  --seed           shuffle seed, 0 to 4294967295 (default 42)
  --model-output   folder for model.json and metrics.json`;

function parseArguments(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'training-data': { type: 'string' },
      alpha: { type: 'string', default: '0.1' },
      'test-size': { type: 'string', default: '0.2' },
      seed: { type: 'string', default: '42' },
      'model-output': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  for (const required of ['training-data', 'model-output']) {
    if (values[required] === undefined) throw new UsageError(`the argument --${required} is required\n${HELP}`);
  }
  return {
    trainingData: values['training-data'],
    alpha: values.alpha,
    testSize: values['test-size'],
    seed: values.seed,
    modelOutput: values['model-output'],
  };
}

function parseNumber(text, what) {
  const value = text.trim();
  if (!DECIMAL.test(value)) throw new UsageError(`${what}: expected a decimal number, found '${text}'`);
  return Number(value);
}

function checkOptions(args) {
  const alpha = parseNumber(args.alpha, '--alpha');
  if (!(alpha >= 0) || !Number.isFinite(alpha)) {
    throw new UsageError(`--alpha: expected a finite number >= 0, found '${args.alpha}'`);
  }
  const testSize = parseNumber(args.testSize, '--test-size');
  if (!(testSize > 0 && testSize < 1)) {
    throw new UsageError(`--test-size: expected a fraction between 0 and 1, found '${args.testSize}'`);
  }
  const seedText = args.seed.trim();
  if (!/^[0-9]+$/.test(seedText) || Number(seedText) > UINT32_MAX) {
    throw new UsageError(`--seed: expected an integer from 0 to 4294967295, found '${args.seed}'`);
  }
  return { alpha, testSize, seed: Number(seedText) };
}

function findCsv(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new UsageError(`--training-data: ${path} does not exist`);
  }
  if (stat.isFile()) return path;
  const names = readdirSync(path).sort();
  const csvs = names.filter((n) => n.toLowerCase().endsWith('.csv') && statSync(join(path, n)).isFile());
  if (csvs.length !== 1) {
    const found = names.length > 0 ? names.join(', ') : 'nothing';
    throw new UsageError(
      `--training-data: the folder ${path} must hold exactly one .csv file; it holds ${found}. Pass the file itself.`,
    );
  }
  return join(path, csvs[0]);
}

function splitLine(line) {
  return line.split(',').map((raw) => {
    const cell = raw.trim();
    return cell.length >= 2 && cell.startsWith('"') && cell.endsWith('"') ? cell.slice(1, -1) : cell;
  });
}

/** A plain numeric CSV: a header row, commas, no quoted commas. Returns features, X and y. */
function readTable(path) {
  let text = readFileSync(path, 'utf8');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const numbered = text
    .split(/\r\n|\r|\n/)
    .map((line, i) => [i + 1, line])
    .filter(([, line]) => line.trim() !== '');
  if (numbered.length === 0) throw new UsageError(`${path}: the file is empty`);
  const header = splitLine(numbered[0][1]);
  if (new Set(header).size !== header.length) {
    throw new UsageError(`${path}: the header repeats a column name: ${header.join(', ')}`);
  }
  const targetAt = header.indexOf(TARGET);
  if (targetAt < 0) throw new UsageError(`${path}: no column named '${TARGET}'; the columns are ${header.join(', ')}`);
  const features = header.filter((name) => name !== TARGET);
  const xs = [];
  const ys = [];
  for (const [lineNo, line] of numbered.slice(1)) {
    const cells = splitLine(line);
    if (cells.length !== header.length) {
      throw new UsageError(`${path} line ${lineNo}: ${cells.length} values, expected ${header.length}`);
    }
    const row = [];
    cells.forEach((cell, j) => {
      if (!DECIMAL.test(cell)) {
        throw new UsageError(`${path} line ${lineNo}, column ${header[j]}: expected a number, found '${cell}'`);
      }
      if (j === targetAt) ys.push(Number(cell));
      else row.push(Number(cell));
    });
    xs.push(row);
  }
  return { features, xs, ys };
}

/** Tommy Ettinger's mulberry32: 32-bit state, one uint32 per call, as in train.py. */
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Fisher-Yates shuffle of the row indices; the first ceil(testSize * n) are the test rows. */
function splitRows(n, testSize, seed) {
  const order = Array.from({ length: n }, (_, i) => i);
  const nextUint32 = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = nextUint32() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTest = Math.ceil(testSize * n);
  if (nTest < 1 || n - nTest < 2) {
    throw new UsageError(`--test-size ${testSize} leaves ${n - nTest} training and ${nTest} test rows of ${n}`);
  }
  return { train: order.slice(nTest), test: order.slice(0, nTest) };
}

/** Means and population standard deviations per column (a constant column gets scale 1). */
function standardizer(xs) {
  const n = xs.length;
  const p = xs[0].length;
  const means = [];
  const scales = [];
  for (let j = 0; j < p; j++) {
    let s = 0.0;
    for (const row of xs) s += row[j];
    const mean = s / n;
    let ss = 0.0;
    for (const row of xs) {
      const d = row[j] - mean;
      ss += d * d;
    }
    const scale = Math.sqrt(ss / n);
    means.push(mean);
    scales.push(scale > 0 ? scale : 1.0);
  }
  return { means, scales };
}

function standardize(xs, means, scales) {
  return xs.map((row) => means.map((mean, j) => (row[j] - mean) / scales[j]));
}

function choleskySolve(a, b) {
  const p = b.length;
  const lower = Array.from({ length: p }, () => new Array(p).fill(0.0));
  for (let j = 0; j < p; j++) {
    let s = a[j][j];
    for (let k = 0; k < j; k++) s -= lower[j][k] * lower[j][k];
    if (!(s > 0)) {
      throw new TrainError('XᵀX + αI is not positive definite (collinear features?); use a larger --alpha');
    }
    lower[j][j] = Math.sqrt(s);
    for (let i = j + 1; i < p; i++) {
      let t = a[i][j];
      for (let k = 0; k < j; k++) t -= lower[i][k] * lower[j][k];
      lower[i][j] = t / lower[j][j];
    }
  }
  const z = new Array(p).fill(0.0);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= lower[i][k] * z[k];
    z[i] = s / lower[i][i];
  }
  const w = new Array(p).fill(0.0);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < p; k++) s -= lower[k][i] * w[k];
    w[i] = s / lower[i][i];
  }
  return w;
}

/** Solves (ZᵀZ + αI)w = Zᵀ(y - ȳ) on standardized Z; the intercept ȳ is not penalized. */
function fitRidge(zs, ys, alpha) {
  const n = ys.length;
  const p = zs[0].length;
  let ySum = 0.0;
  for (const y of ys) ySum += y;
  const yMean = ySum / n;
  const gram = Array.from({ length: p }, () => new Array(p).fill(0.0));
  const rhs = new Array(p).fill(0.0);
  for (let i = 0; i < n; i++) {
    const row = zs[i];
    const r = ys[i] - yMean;
    for (let j = 0; j < p; j++) {
      const zj = row[j];
      rhs[j] += zj * r;
      for (let k = 0; k <= j; k++) gram[j][k] += zj * row[k];
    }
  }
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < j; k++) gram[k][j] = gram[j][k];
    gram[j][j] += alpha;
  }
  return { w: choleskySolve(gram, rhs), intercept: yMean };
}

function predict(zs, w, intercept) {
  return zs.map((row) => {
    let s = intercept;
    for (let j = 0; j < w.length; j++) s += w[j] * row[j];
    return s;
  });
}

function regressionMetrics(ys, preds) {
  const n = ys.length;
  let sse = 0.0;
  let sae = 0.0;
  let ySum = 0.0;
  for (let i = 0; i < n; i++) {
    const e = ys[i] - preds[i];
    sse += e * e;
    sae += Math.abs(e);
    ySum += ys[i];
  }
  const yMean = ySum / n;
  let sst = 0.0;
  for (const y of ys) {
    const d = y - yMean;
    sst += d * d;
  }
  return { rmse: Math.sqrt(sse / n), mae: sae / n, r2: sst > 0 ? 1.0 - sse / sst : NaN };
}

const finiteOrNull = (value) => (Number.isFinite(value) ? value : null);

/** MLflow's proto3 JSON writes NaN and infinities as strings. */
function toProtoNumber(value) {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

function writeJson(path, obj) {
  writeFileSync(path, JSON.stringify(obj, null, 2) + '\n');
}

/** POSTs one runs/log-batch when MLFLOW_TRACKING_URI and MLFLOW_RUN_ID are set (as in a job). */
async function logToMlflow(params, metrics) {
  const uri = (process.env.MLFLOW_TRACKING_URI ?? '').trim();
  const runId = (process.env.MLFLOW_RUN_ID ?? '').trim();
  if (uri === '' || runId === '') {
    console.log('mlflow: MLFLOW_TRACKING_URI and MLFLOW_RUN_ID are not both set; not logging');
    return;
  }
  if (!uri.startsWith('http://') && !uri.startsWith('https://')) {
    console.log(`mlflow: the tracking URI ${uri} is not http(s); not logging`);
    return;
  }
  const url = uri.replace(/\/+$/, '') + '/api/2.0/mlflow/runs/log-batch';
  const timestamp = Date.now();
  const body = {
    run_id: runId,
    params: params.map(([key, value]) => ({ key, value })),
    metrics: metrics.map(([key, value, step]) => ({ key, value: toProtoNumber(value), timestamp, step })),
  };
  const headers = { 'Content-Type': 'application/json' };
  const token = (process.env.MLFLOW_TRACKING_TOKEN ?? '').trim();
  if (token !== '') headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw new TrainError(`mlflow: cannot reach ${url}: ${error.cause?.message ?? error.message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message;
    try {
      const parsed = JSON.parse(text);
      message = `${parsed.error_code ?? 'ERROR'}: ${parsed.message ?? text}`;
    } catch {
      message = text.trim() || response.statusText;
    }
    throw new TrainError(`mlflow: runs/log-batch to ${url} failed with HTTP ${response.status}: ${message}`);
  }
  console.log(`mlflow: logged ${params.length} params and ${metrics.length} metric values to run ${runId}`);
}

async function train(args) {
  const { alpha, testSize, seed } = checkOptions(args);
  console.log(`diabetes ridge regression, Node ${process.versions.node}`);
  const csvPath = findCsv(args.trainingData);
  const { features, xs, ys } = readTable(csvPath);
  if (ys.length < 3) throw new UsageError(`${csvPath}: ${ys.length} data rows; at least 3 are needed`);
  console.log(`read ${ys.length} rows, ${features.length} features + ${TARGET} from ${csvPath}`);

  const split = splitRows(ys.length, testSize, seed);
  const xTrain = split.train.map((i) => xs[i]);
  const yTrain = split.train.map((i) => ys[i]);
  const xTest = split.test.map((i) => xs[i]);
  const yTest = split.test.map((i) => ys[i]);
  console.log(
    `split: ${split.train.length} train / ${split.test.length} test rows (seed ${seed}, test size ${testSize})`,
  );

  const { means, scales } = standardizer(xTrain);
  const zTrain = standardize(xTrain, means, scales);
  const zTest = standardize(xTest, means, scales);

  const { w, intercept } = fitRidge(zTrain, yTrain, alpha);
  const trainRmse = regressionMetrics(yTrain, predict(zTrain, w, intercept)).rmse;
  const test = regressionMetrics(yTest, predict(zTest, w, intercept));
  const metrics = { rmse: test.rmse, mae: test.mae, r2: test.r2, train_rmse: trainRmse };
  console.log(`fit alpha=${alpha}: train rmse ${trainRmse.toFixed(4)}`);
  console.log(`test: rmse ${test.rmse.toFixed(4)}, mae ${test.mae.toFixed(4)}, r2 ${test.r2.toFixed(4)}`);

  const path = ALPHA_PATH_MULTIPLIERS.map((multiplier, step) => {
    const a = alpha * multiplier;
    const fit = fitRidge(zTrain, yTrain, a);
    const rmse = regressionMetrics(yTest, predict(zTest, fit.w, fit.intercept)).rmse;
    console.log(`alpha path ${step}: alpha=${Number(a.toPrecision(6))} test rmse ${rmse.toFixed(4)}`);
    return { step, alpha: a, rmse };
  });

  mkdirSync(args.modelOutput, { recursive: true });
  const fileMetrics = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, finiteOrNull(v)]));
  writeJson(join(args.modelOutput, 'model.json'), {
    model: 'ridge_regression',
    target: TARGET,
    features,
    means,
    scales,
    coefficients: w,
    intercept,
    alpha,
    prediction: 'intercept + sum over j of coefficients[j] * (x[j] - means[j]) / scales[j]',
    split: { seed, test_size: testSize, n_train: split.train.length, n_test: split.test.length },
    metrics: fileMetrics,
  });
  writeJson(join(args.modelOutput, 'metrics.json'), {
    ...fileMetrics,
    rmse_by_log_alpha: path.map((p) => ({ ...p, rmse: finiteOrNull(p.rmse) })),
  });
  console.log(`wrote model.json and metrics.json to ${args.modelOutput}`);

  const params = [
    ['alpha', args.alpha.trim()],
    ['test_size', args.testSize.trim()],
    ['seed', String(seed)],
    ['n_train', String(split.train.length)],
    ['n_test', String(split.test.length)],
  ];
  const logged = [
    ...Object.entries(metrics).map(([k, v]) => [k, v, 0]),
    ...path.map((p) => ['rmse_by_log_alpha', p.rmse, p.step]),
  ];
  await logToMlflow(params, logged);
}

async function main(argv) {
  try {
    await train(parseArguments(argv));
    return 0;
  } catch (error) {
    // parseArgs reports unknown or malformed options as TypeErrors with an ERR_PARSE_ARGS_* code.
    const usage = error instanceof UsageError || String(error.code ?? '').startsWith('ERR_PARSE_ARGS');
    if (!usage && !(error instanceof TrainError) && error.code === undefined) throw error;
    console.error(`error: ${error.message}`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

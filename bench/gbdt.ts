// npm run bench -- gbdt [--rows N] [--repeats R] [--threads T[,T...]] [--datasets DIR]
// Histogram gradient boosting fit and predict time on synth_clf_100k (80,000 training rows × 20
// features; the last 20,000 rows are the holdout), against scikit-learn's
// HistGradientBoostingClassifier measured in the same run on the same cores: 100 trees, learning
// rate 0.1, 31 leaves, 255 bins, no early stopping; scikit-learn with 2 threads, Tessera with 1
// and with 2 (`--threads 1,2`, the default), each its own line of figures. The fits take turns
// (the order alternates each repeat) so that load from other processes falls on all of them.
// `--rows N` trains on the first N training rows for a quicker run; `--datasets DIR` reads the
// datasets from DIR, not ../shared/datasets.
// Targets (issue 5): Tessera's median fit ≤ 1.5 × scikit-learn's, holdout AUC within 0.002, for
// the faster of its thread counts (`fitRatioTesseraOverSklearn`); every count's ratio is printed.
// On a 2-vCPU virtual machine a second thread can gain nothing: both threads then run at about
// half speed (scikit-learn gains about 10% from its second thread on the same machine).
// Without scikit-learn in /usr/bin/python3, the baseline is the figure recorded by
// ../shared/peers/gbdt_speed.py (labelled as recorded, not comparable when --rows is given).
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { binaryAuc } from '../shared/ml/metrics.js';
import { histGradientBoostingTrainer } from '../shared/ml/models/gbm.js';
import type { GradientBoostingParams } from '../shared/ml/models/gbm.js';
import type { Matrix } from '../shared/ml/types.js';

const PYTHON = '/usr/bin/python3';
const THREADS = 2;
const DATASET = 'synth_clf_100k';
// dist/bench/gbdt.js → the repository root is two folders up; ../shared sits beside it.
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const PARAMS: GradientBoostingParams = {
  nEstimators: 100,
  learningRate: 0.1,
  numLeaves: 31,
  maxBin: 255,
  earlyStopping: false,
};
const SEED = 0;
const MAX_RATIO = 1.5;
const MAX_AUC_GAP = 0.002;

interface Split {
  csv: string;
  target: string;
  trainRows: number;
  usedTrainRows: number;
  train: { X: Matrix; y: string[] };
  test: { X: Matrix; y: string[] };
}

interface FitSample {
  fitSeconds: number;
  predictSecondsPer100k: number;
  auc: number;
}

function threadCounts(): number[] {
  const i = process.argv.indexOf('--threads');
  if (i < 0) return [1, THREADS];
  const counts = (process.argv[i + 1] ?? '').split(',').map(Number);
  if (counts.length === 0 || counts.some((t) => !Number.isInteger(t) || t < 1)) {
    throw new RangeError('--threads must be positive integers separated by commas, e.g. --threads 1,2');
  }
  return counts;
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function loadSplit(datasets: string, usedRows: number | undefined): Split {
  const manifest = JSON.parse(readFileSync(`${datasets}/datasets.json`, 'utf8')) as {
    datasets: { name: string; path: string; target: string; split: { train_rows: number } }[];
  };
  const info = manifest.datasets.find((d) => d.name === DATASET);
  if (info === undefined) throw new Error(`${DATASET} is not in ${datasets}/datasets.json`);
  const csv = `${datasets}/${info.path}`;
  const [header, ...rows] = parseCsv(readFileSync(csv, 'utf8')) as string[][];
  if (header === undefined) throw new Error(`${csv} is empty`);
  const targetIdx = header.indexOf(info.target);
  const featureIdx = header.map((_, i) => i).filter((i) => i !== targetIdx);
  const part = (slice: string[][]) => {
    const p = featureIdx.length;
    const data = new Float64Array(slice.length * p);
    slice.forEach((row, i) => featureIdx.forEach((c, j) => (data[i * p + j] = Number(row[c]))));
    return { X: { rows: slice.length, cols: p, data }, y: slice.map((row) => row[targetIdx] ?? '') };
  };
  const trainRows = info.split.train_rows;
  const usedTrainRows = Math.min(usedRows ?? trainRows, trainRows);
  return {
    csv,
    target: info.target,
    trainRows,
    usedTrainRows,
    train: part(rows.slice(0, usedTrainRows)),
    test: part(rows.slice(trainRows)),
  };
}

function fitTessera(split: Split, threads: number): FitSample {
  const t0 = performance.now();
  const model = histGradientBoostingTrainer.fit(split.train.X, split.train.y, { ...PARAMS, threads }, { seed: SEED });
  const fitSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const proba = model.predictProba(split.test.X);
  const predictSeconds = (performance.now() - t1) / 1000;
  const positive = (model.classes as readonly string[])[1];
  const scores = new Float64Array(proba.rows);
  for (let i = 0; i < proba.rows; i++) scores[i] = proba.data[2 * i + 1] as number;
  return {
    fitSeconds,
    predictSecondsPer100k: (predictSeconds * 100_000) / split.test.X.rows,
    auc: binaryAuc(scores, (row) => split.test.y[row] === positive),
  };
}

/** scikit-learn in a child process that fits once per request, so its fits can interleave with ours. */
class SklearnBaseline {
  private readonly lines: AsyncIterator<string>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly version: string,
    lines: AsyncIterator<string>,
  ) {
    this.lines = lines;
  }

  /** Starts the baseline, or returns why it is unavailable. */
  static async start(split: Split): Promise<SklearnBaseline | string> {
    if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
    const script = `${REPO}bench/support/sklearn-hist-gbdt.py`;
    const child = spawn(
      PYTHON,
      [script, split.csv, split.target, String(split.trainRows), String(split.usedTrainRows), String(THREADS)],
      { env: { ...process.env, OMP_NUM_THREADS: String(THREADS) } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done === true) {
      const lastLine = stderr.trim().split('\n').pop() ?? '';
      return `${PYTHON} ${script} exited before it was ready: ${lastLine}`;
    }
    const ready = JSON.parse(first.value) as { sklearn: string };
    return new SklearnBaseline(child, ready.sklearn, lines);
  }

  async fit(): Promise<FitSample> {
    this.child.stdin.write('fit\n');
    const next = await this.lines.next();
    if (next.done === true) throw new Error('the scikit-learn baseline exited during a fit');
    return JSON.parse(next.value) as FitSample;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** The scikit-learn figure recorded by ../shared/peers/gbdt_speed.py on this dataset, if present. */
function recordedBaseline(): (FitSample & { source: string; fitSecondsAll: number[] }) | undefined {
  const path = `${SHARED}peers/results/gbdt_speed.json`;
  if (!existsSync(path)) return undefined;
  const recorded = JSON.parse(readFileSync(path, 'utf8')) as {
    datasets: Record<
      string,
      {
        models: Record<
          string,
          {
            fit_seconds_median: number;
            fit_seconds_all: number[];
            predict_seconds_per_100k_median: number;
            auc: number;
          }
        >;
      }
    >;
  };
  const hgb = recorded.datasets[DATASET]?.models['sklearn_hist_gradient_boosting'];
  if (hgb === undefined) return undefined;
  return {
    source: path,
    fitSeconds: hgb.fit_seconds_median,
    fitSecondsAll: hgb.fit_seconds_all,
    predictSecondsPer100k: hgb.predict_seconds_per_100k_median,
    auc: hgb.auc,
  };
}

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function summary(samples: FitSample[]) {
  const fits = samples.map((s) => s.fitSeconds);
  return {
    fitSecondsMedian: round(median(fits)),
    fitSecondsMin: round(Math.min(...fits)),
    fitSecondsMax: round(Math.max(...fits)),
    fitSecondsAll: fits.map((s) => round(s)),
    predictSecondsPer100kMedian: round(median(samples.map((s) => s.predictSecondsPer100k))),
    auc: round(samples[samples.length - 1]?.auc ?? NaN, 5),
    aucSameEveryFit: samples.every((s) => s.auc === samples[0]?.auc),
  };
}

async function run(): Promise<void> {
  const rowsOption = process.argv.includes('--rows') ? option('--rows', 0) : undefined;
  const repeats = option('--repeats', 3);
  const threads = threadCounts();
  const datasetsAt = process.argv.indexOf('--datasets');
  const datasets = datasetsAt < 0 ? `${SHARED}datasets` : resolve(process.argv[datasetsAt + 1] ?? '.');
  const split = loadSplit(datasets, rowsOption);
  const loadBefore = loadavg()[0] as number;
  const baseline = await SklearnBaseline.start(split);
  const ours: FitSample[][] = threads.map(() => []);
  const theirs: FitSample[] = [];
  try {
    // Warm-up: the first fit pays for JIT compilation; scikit-learn's for imports and page faults.
    for (const t of threads) fitTessera(split, t);
    if (typeof baseline !== 'string') await baseline.fit();
    for (let i = 0; i < repeats; i++) {
      if (i % 2 === 1 && typeof baseline !== 'string') theirs.push(await baseline.fit());
      threads.forEach((t, k) => ours[k]?.push(fitTessera(split, t)));
      if (i % 2 === 0 && typeof baseline !== 'string') theirs.push(await baseline.fit());
    }
  } finally {
    if (typeof baseline !== 'string') baseline.close();
  }

  const loadAfter = loadavg()[0] as number;
  const byThreads = threads.map((t, k) => ({ threads: t, ...summary(ours[k] ?? []) }));
  // The thread count with the fastest median fit: the configuration the targets are judged on.
  const tessera = byThreads.reduce((best, s) => (s.fitSecondsMedian < best.fitSecondsMedian ? s : best));
  let sklearn: Record<string, unknown>;
  let reference: { fitSeconds: number; fitSecondsMin: number; auc: number } | undefined;
  if (typeof baseline !== 'string') {
    const s = summary(theirs);
    sklearn = { measured: 'in this run', version: baseline.version, threads: THREADS, ...s };
    reference = { fitSeconds: s.fitSecondsMedian, fitSecondsMin: s.fitSecondsMin, auc: s.auc };
  } else {
    const recorded = recordedBaseline();
    sklearn = {
      measured: 'unavailable',
      why: baseline,
      ...(recorded === undefined
        ? {}
        : {
            recorded: {
              source: recorded.source,
              fitSecondsMedian: recorded.fitSeconds,
              fitSecondsAll: recorded.fitSecondsAll,
              predictSecondsPer100kMedian: recorded.predictSecondsPer100k,
              auc: recorded.auc,
              note: 'recorded on 80,000 training rows on an idle machine, not in this run',
            },
          }),
    };
    if (recorded !== undefined) {
      const fitSecondsMin = Math.min(...recorded.fitSecondsAll);
      reference = { fitSeconds: recorded.fitSeconds, fitSecondsMin, auc: recorded.auc };
    }
  }
  const busy = Math.max(loadBefore, loadAfter) > cpus().length;
  const comparable = typeof baseline !== 'string' || split.usedTrainRows === split.trainRows;
  const ratio = reference === undefined ? NaN : tessera.fitSecondsMedian / reference.fitSeconds;
  const ratioOfMins = reference === undefined ? NaN : tessera.fitSecondsMin / reference.fitSecondsMin;
  const aucDifference = reference === undefined ? NaN : tessera.auc - reference.auc;
  const result = {
    bench: 'gbdt',
    dataset: DATASET,
    trainRows: split.train.X.rows,
    testRows: split.test.X.rows,
    features: split.train.X.cols,
    settings: { ...PARAMS, threads, seed: SEED, repeats, warmUpFits: 1 },
    cpus: cpus().length,
    // OpenMP's threads wait for each other many times a tree: on a machine busier than its core
    // count, a descheduled thread stalls scikit-learn's fits by up to tens of times. Compare the
    // fastest fits (fitRatioOfFastest) then, or rerun when the machine is quiet.
    loadAverage1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
    busy,
    tessera,
    tesseraByThreads: byThreads,
    sklearn,
    fitRatioTesseraOverSklearn: round(ratio),
    fitRatioByThreads: Object.fromEntries(
      byThreads.map((s) => [
        s.threads,
        reference === undefined ? NaN : round(s.fitSecondsMedian / reference.fitSeconds),
      ]),
    ),
    fitRatioOfFastest: round(ratioOfMins),
    aucDifference: round(aucDifference, 5),
    targets: {
      maxFitRatio: MAX_RATIO,
      maxAucDifference: MAX_AUC_GAP,
      baseline: typeof baseline !== 'string' ? 'measured' : reference !== undefined ? 'recorded' : 'none',
      // A recorded figure is for all 80,000 training rows: a --rows run is not compared with it.
      comparable,
      // On a busy machine scikit-learn's stalls can meet the ratio for us: rerun when it is quiet.
      trustworthy: comparable && !busy,
      fitRatioMet: comparable && ratio <= MAX_RATIO,
      aucMet: comparable && Math.abs(aucDifference) <= MAX_AUC_GAP,
    },
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

run().catch((err: unknown) => {
  process.stderr.write(`bench gbdt failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

// npm run bench -- forecast-origins [--dataset <name|all>] [--origins N]
// A forecasting AutoML job's choice judged on several holdouts instead of one. Origin 0 is the
// dataset's fixed split (the last horizon of every series held out, as `bench automl` does);
// origin k holds out the horizon that ends k horizons earlier and trains on what comes before it.
// At each origin the search runs in-process as a job without a timeout runs it: the proposer's
// rounds (2 at a time, as `bench automl`), each trial's rolling-origin backtests, the vote
// ensembles, and the best model chosen by selection.ts. In the same run, on the same points, the
// baselines the issue names: seasonal naive (naive where datasets.json gives no season, as the
// peers do) and Holt-Winters, additive and damped (Tessera's fits, on each series' detected season;
// on co2_monthly's fixed split the additive one scores MASE 0.1667, statsmodels' 0.1671). One holdout of 12 points decides the
// issue's forecasting target; this shows how often the choice beats each baseline, and by how
// much on average. Forecasting datasets only; the default is all of them, 4 origins each.
import { join } from 'node:path';
import { prepareForecast } from '../shared/ml/automl/forecast-data.js';
import { proposeForecastTrials } from '../shared/ml/automl/forecast-proposer.js';
import { evaluateHoldout, runForecastTrial } from '../shared/ml/automl/forecast-trial.js';
import type { ForecastTrialOutcome } from '../shared/ml/automl/forecast-trial.js';
import { chooseBest } from '../shared/ml/automl/selection.js';
import type { TrialConfig, TrialRecord } from '../shared/ml/automl/types.js';
import { isBetter } from '../shared/ml/metrics.js';
import type { Table } from '../shared/ml/types.js';
import { readLocalTable } from '../trainer/automl/local-table.js';
import { automlSettingsFor, datasets, materialize } from './support/datasets.js';
import { runBench } from './support/run.js';
import type { DatasetInfo } from './support/datasets.js';

const CONCURRENCY = 2;
const round = (v: number, digits = 6): number => Number(v.toPrecision(digits));

interface Scores {
  mase: number;
  smape: number;
}

function parseArgs(argv: readonly string[]): { dataset: string; origins: number } {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const origins = Number(get('--origins') ?? 4);
  if (!Number.isInteger(origins) || origins < 1) {
    throw new Error(`--origins must be a positive whole number; got ${get('--origins')}`);
  }
  return { dataset: get('--dataset') ?? 'all', origins };
}

function tryTrial(data: ReturnType<typeof prepareForecast>, config: TrialConfig): ForecastTrialOutcome | undefined {
  try {
    return runForecastTrial(data, config);
  } catch {
    return undefined; // a failed trial, as the job records it: no score
  }
}

async function atOrigin(info: DatasetInfo, origin: number, work: string) {
  const dir = join(work, `${info.name}-${origin}`);
  const { train, test } = materialize(info, dir, origin);
  const settings = automlSettingsFor(info, { max_concurrent_trials: CONCURRENCY });
  const data = prepareForecast(settings, await readLocalTable(train, 'training_data', 0));
  const holdout: Table = await readLocalTable(test, 'test_data', 0);
  const seasonal = data.series.some((s) => s.seasonLength > 1);
  const score = (outcome: ForecastTrialOutcome | undefined): Scores | undefined => {
    if (outcome === undefined) return undefined;
    const m = evaluateHoldout(outcome.model, holdout, settings, { seasonLength: info.season_length ?? 1 });
    return { mase: round(m.mase as number), smape: round(m.smape as number) };
  };

  // The search, as the job runs it.
  const history: TrialRecord[] = [];
  const outcomes: (ForecastTrialOutcome | undefined)[] = [];
  for (;;) {
    const batch = proposeForecastTrials({ settings, history, count: CONCURRENCY, seasonal });
    if (batch.length === 0) break;
    for (const config of batch) {
      const outcome = tryTrial(data, config);
      outcomes.push(outcome);
      history.push({ config, ...(outcome === undefined ? {} : { score: outcome.score }) });
    }
  }
  const metric = settings.primaryMetric;
  const board = history
    .map((h, i) => ({ name: String(i), value: h.score, algorithm: h.config.algorithm }))
    .filter((e): e is { name: string; value: number; algorithm: string } => e.value !== undefined)
    .sort((a, b) => (isBetter(metric, a.value, b.value) ? -1 : isBetter(metric, b.value, a.value) ? 1 : 0));
  const choice = chooseBest(board, metric, { rows: data.series.reduce((n, s) => n + s.values.length, 0), folds: 0 });
  if (choice === undefined) throw new Error(`${info.name} origin ${origin}: no trial scored`);
  const chosen = outcomes[Number(choice.name)];

  const baseline = (algorithm: string, params: TrialConfig['params'] = {}): Scores | undefined =>
    score(tryTrial(data, { algorithm, params }));
  return {
    origin,
    train_points_per_series: Math.min(...data.series.map((s) => s.values.length)),
    trials: history.length,
    chosen: { algorithm: chosen?.config.algorithm, backtest: round(chosen?.score ?? Number.NaN) },
    holdout: {
      automl: score(chosen),
      seasonal_naive: baseline((info.season_length ?? 1) > 1 ? 'SeasonalNaive' : 'Naive'),
      holt_winters: baseline('ExponentialSmoothing', { trend: 'additive' }),
      holt_winters_damped: baseline('ExponentialSmoothing', { trend: 'damped' }),
    },
  };
}

type Origin = Awaited<ReturnType<typeof atOrigin>>;
type Model = keyof Origin['holdout'];

function summary(rows: readonly Origin[]) {
  const models = Object.keys(rows[0]?.holdout ?? {}) as Model[];
  const mean = (model: Model, key: keyof Scores): number => {
    const values = rows.map((r) => r.holdout[model]?.[key]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? Number.NaN : round(values.reduce((a, b) => a + b, 0) / values.length);
  };
  const wins = (other: Model, key: keyof Scores): string => {
    const scored = rows.filter((r) => r.holdout.automl !== undefined && r.holdout[other] !== undefined);
    const won = scored.filter((r) => (r.holdout.automl as Scores)[key] <= (r.holdout[other] as Scores)[key]);
    return `${won.length} of ${scored.length}`;
  };
  return {
    mean: Object.fromEntries(models.map((m) => [m, { mase: mean(m, 'mase'), smape: mean(m, 'smape') }])),
    automl_at_least_as_good_as: Object.fromEntries(
      models.filter((m) => m !== 'automl').map((m) => [m, { mase: wins(m, 'mase'), smape: wins(m, 'smape') }]),
    ),
  };
}

runBench('forecast-origins', async (work) => {
  const args = parseArgs(process.argv.slice(2));
  const all = datasets().filter((d) => d.task === 'forecasting');
  const chosen = args.dataset === 'all' ? all : all.filter((d) => d.name === args.dataset);
  if (chosen.length === 0) {
    throw new Error(
      `--dataset: ${args.dataset} is not a forecasting dataset; there are ${all.map((d) => d.name).join(', ')}`,
    );
  }
  const results: unknown[] = [];
  for (const info of chosen) {
    const started = performance.now();
    const rows: Origin[] = [];
    for (let origin = 0; origin < args.origins; origin++) rows.push(await atOrigin(info, origin, work));
    results.push({
      dataset: info.name,
      horizon: info.horizon,
      origins: rows,
      ...summary(rows),
      wall_seconds: round((performance.now() - started) / 1000, 4),
    });
  }
  return results;
});

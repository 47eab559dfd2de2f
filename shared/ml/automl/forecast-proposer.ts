/**
 * Which forecasting trials to run next: a fixed, cheapest-first list (the baselines, Holt-Winters
 * variants, then regression learners on lag features), filtered by the job's allowed algorithms
 * and by what has already run; then, with enable_vote_ensemble, averages of the best few by backtest
 * score. Deterministic: the same settings and history give the same batch.
 */
import { isBetter } from '../metrics.js';
import { FORECAST_ALGORITHMS } from './forecast-algorithms.js';
import { ensembleConfig, VOTING_ENSEMBLE } from './forecast-model.js';
import type { AutomlSettings, ParamValue, TrialConfig, TrialRecord } from './types.js';

export interface ForecastProposalInput {
  settings: AutomlSettings;
  history: readonly TrialRecord[];
  count: number;
  /**
   * Whether any series has a season (PreparedForecast: a seasonLength over 1). Unknown (default):
   * seasonal variants are proposed too.
   */
  seasonal?: boolean;
}

const BOOSTERS = ['LightGBM', 'XGBoostRegressor', 'GradientBoosting'];

/** A canonical text of a config: the algorithm and its params in key order. */
export function configKey(config: TrialConfig): string {
  const params = Object.keys(config.params)
    .sort()
    .map((k) => [k, config.params[k]]);
  return JSON.stringify([config.algorithm, params]);
}

function candidates(seasonal: boolean): TrialConfig[] {
  const c = (algorithm: string, params: Record<string, ParamValue> = {}): TrialConfig => ({ algorithm, params });
  const boost = (params: Record<string, ParamValue>): TrialConfig => c('LightGBM', params);
  const list: TrialConfig[] = [
    c('Naive'),
    ...(seasonal ? [c('SeasonalNaive')] : []),
    c('Average'),
    ...(seasonal ? [c('SeasonalAverage')] : []),
    c('ExponentialSmoothing', { trend: 'additive' }),
    c('ExponentialSmoothing', { trend: 'damped' }),
    c('ExponentialSmoothing', { trend: 'none' }),
    ...(seasonal ? [c('ExponentialSmoothing', { trend: 'damped', seasonal: false })] : []),
    c('ElasticNet', { transform: 'diff', lags: 4, alpha: 0.001 }),
    c('ElasticNet', { transform: 'level', lags: 12, alpha: 0.001 }),
    boost({ transform: 'diff', lags: 4, n_estimators: 100, learning_rate: 0.05, num_leaves: 8 }),
    boost({ transform: 'level', lags: 12, n_estimators: 100, learning_rate: 0.05, num_leaves: 8 }),
    c('ElasticNet', { transform: 'diff', lags: 12, alpha: 0.001 }),
    c('ElasticNet', { transform: 'level', lags: 4, alpha: 0.001 }),
    boost({ transform: 'diff', lags: 12, window: 4, n_estimators: 100, learning_rate: 0.05, num_leaves: 8 }),
    boost({ transform: 'diff', lags: 4, n_estimators: 200, learning_rate: 0.03, num_leaves: 4 }),
    c('RandomForest', { transform: 'diff', lags: 4 }),
    c('ExtremeRandomTrees', { transform: 'level', lags: 12 }),
    c('DecisionTree', { transform: 'diff', lags: 4 }),
    boost({ transform: 'level', lags: 12, window: 4, n_estimators: 200, learning_rate: 0.05, num_leaves: 15 }),
    c('ElasticNet', { transform: 'diff', lags: 4, alpha: 0.01, l1_ratio: 1 }),
    c('ElasticNet', { transform: 'level', lags: 12, alpha: 0.01, l1_ratio: 1 }),
    boost({ transform: 'diff', lags: 8, window: 8, n_estimators: 300, learning_rate: 0.02, num_leaves: 8 }),
  ];
  return list;
}

/** Up to `count` configs not yet in `history`, cheapest first; [] once the list is exhausted. */
export function proposeForecastTrials(input: ForecastProposalInput): TrialConfig[] {
  const { settings, history, count } = input;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number >= 0; got ${count}`);
  const allowed = new Set(
    settings.algorithms.length === 0
      ? Object.keys(FORECAST_ALGORITHMS)
      : settings.algorithms.filter((a) => FORECAST_ALGORITHMS[a] !== undefined),
  );
  const booster = BOOSTERS.find((b) => allowed.has(b));
  const seen = new Set(history.map((h) => configKey(h.config)));
  const out: TrialConfig[] = [];
  for (const candidate of candidates(input.seasonal ?? true)) {
    if (out.length >= count) break;
    let config = candidate;
    if (BOOSTERS.includes(config.algorithm)) {
      if (booster === undefined) continue;
      config = { algorithm: booster, params: config.params };
    } else if (!allowed.has(config.algorithm)) continue;
    const key = configKey(config);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(config);
  }
  // Ensembles come once every single-model trial has been proposed, from the scores so far.
  if (out.length === 0 && count > 0 && settings.enableVoteEnsemble) {
    for (const config of ensembles(history, settings)) {
      if (out.length >= count) break;
      const key = configKey(config);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(config);
    }
  }
  return out;
}

/** Equal-weight averages of the best 3 and 5 distinct scored trials (by the primary metric). */
function ensembles(history: readonly TrialRecord[], settings: AutomlSettings): TrialConfig[] {
  const scored = history
    .map((h, order) => ({ h, order }))
    .filter(({ h }) => h.score !== undefined && Number.isFinite(h.score) && h.config.algorithm !== VOTING_ENSEMBLE)
    .sort((a, b) => {
      const sa = a.h.score as number;
      const sb = b.h.score as number;
      if (isBetter(settings.primaryMetric, sa, sb)) return -1;
      if (isBetter(settings.primaryMetric, sb, sa)) return 1;
      return a.order - b.order;
    });
  const distinct: TrialConfig[] = [];
  const keys = new Set<string>();
  for (const { h } of scored) {
    const key = configKey(h.config);
    if (keys.has(key)) continue;
    keys.add(key);
    distinct.push(h.config);
  }
  const out: TrialConfig[] = [];
  for (const size of [3, 5]) {
    if (distinct.length >= size) out.push(ensembleConfig(distinct.slice(0, size)));
  }
  return out;
}

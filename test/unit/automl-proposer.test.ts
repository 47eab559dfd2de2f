// proposeTrials: deterministic for the same history, never repeats a configuration, tries each
// algorithm's defaults cheapest first, then searches around the best algorithms within their ranges.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALGORITHMS, algorithmEntry } from '../../shared/ml/automl/algorithms.js';
import { configKey, proposeTrials } from '../../shared/ml/automl/proposer.js';
import type { AutomlSettings, TrialConfig, TrialRecord } from '../../shared/ml/automl/types.js';

function settings(extra: Partial<AutomlSettings> = {}): AutomlSettings {
  return {
    task: 'classification',
    targetColumn: 'y',
    primaryMetric: 'accuracy',
    validation: { kind: 'auto' },
    algorithms: ALGORITHMS.classification.filter((a) => a.extension !== true).map((a) => a.name),
    enableVoteEnsemble: true,
    enableStackEnsemble: true,
    maxTrials: 100,
    maxConcurrentTrials: 2,
    earlyTermination: true,
    seed: 0,
    notices: [],
    ...extra,
  };
}

/** A made-up score: LightGBM and RandomForest are best, and lower learning rates help a little. */
function fakeScore(config: TrialConfig): number | undefined {
  if (config.algorithm === 'MultinomialNaiveBayes') return undefined; // fails: negative features
  const base: Record<string, number> = { LightGBM: 0.9, RandomForest: 0.88, LogisticRegression: 0.85 };
  const lr = config.params['learningRate'];
  return (base[config.algorithm] ?? 0.7) + (typeof lr === 'number' ? (0.3 - lr) / 10 : 0);
}

function run(s: AutomlSettings, rows: number, trials: number, batch = 3): TrialRecord[] {
  const history: TrialRecord[] = [];
  while (history.length < trials) {
    const next = proposeTrials({ settings: s, rows, features: 10, history, count: batch });
    if (next.length === 0) break;
    for (const config of next) {
      const score = fakeScore(config);
      history.push(score === undefined ? { config } : { config, score, seconds: 1 });
    }
  }
  return history;
}

describe('proposeTrials', () => {
  test('with a timeout, configurations predicted (from their own algorithm) to outlast the time left are not proposed', () => {
    const s = settings();
    const rows = 20_000;
    const cost = (c: TrialConfig) => algorithmEntry('classification', c.algorithm).cost(rows, 10, c.params);
    const defaults = proposeTrials({ settings: s, rows, features: 10, history: [], count: s.algorithms.length });
    assert.equal(new Set(defaults.map((c) => c.algorithm)).size, defaults.length, 'the defaults only');
    // Every default was tried; LightGBM's took 20 s, the others 1 s.
    const history: TrialRecord[] = defaults.map((config) => ({
      config,
      score: config.algorithm === 'LightGBM' ? 0.95 : 0.7,
      seconds: config.algorithm === 'LightGBM' ? 20 : 1,
    }));
    const lightgbm = defaults.find((c) => c.algorithm === 'LightGBM') as TrialConfig;
    const rate = 20 / cost(lightgbm);
    const next = proposeTrials({ settings: s, rows, features: 10, history, count: 30, maxSeconds: 25 });
    assert.ok(next.length > 0);
    for (const c of next.filter((n) => n.algorithm === 'LightGBM')) {
      assert.ok(cost(c) * rate <= 25, `LightGBM ${JSON.stringify(c.params)} predicted ${cost(c) * rate} s`);
    }
    // A LightGBM search with more rounds than fit in 5 s is left out; with 60 s some are proposed.
    const tight = proposeTrials({ settings: s, rows, features: 10, history, count: 30, maxSeconds: 5 });
    assert.ok(tight.every((c) => c.algorithm !== 'LightGBM' || cost(c) * rate <= 5));
    // Before any trial is timed nothing is predicted: the defaults come whatever the time left.
    assert.deepEqual(
      proposeTrials({ settings: s, rows, features: 10, history: [], count: defaults.length, maxSeconds: 0.001 }),
      defaults,
    );
  });

  test('an untimed default predicted (from the others) to take over 40% of the time left is left out', () => {
    const s = settings();
    const rows = 16_000;
    const cost = (c: TrialConfig) => algorithmEntry('classification', c.algorithm).cost(rows, 10, c.params);
    const defaults = proposeTrials({ settings: s, rows, features: 10, history: [], count: s.algorithms.length });
    const forest = defaults.find((c) => c.algorithm === 'RandomForest') as TrialConfig;
    const lightgbm = defaults.find((c) => c.algorithm === 'LightGBM') as TrialConfig;
    // Only LightGBM (5 s) and naive Bayes (1 s: the fixed part) have run.
    const history: TrialRecord[] = [
      { config: lightgbm, score: 0.9, seconds: 5 },
      { config: defaults.find((c) => c.algorithm === 'BernoulliNaiveBayes') as TrialConfig, score: 0.6, seconds: 1 },
    ];
    // Predictions count the fits a trial makes: with one validation split each trial fits twice;
    // with three folds LightGBM's trial fits 3 times (its fold bag) and the forest's 4 (folds + refit).
    for (const [folds, lightgbmFits, forestFits] of [
      [1, 2, 2],
      [3, 3, 4],
    ] as const) {
      const predicted = 1 + (cost(forest) * forestFits * 4) / (cost(lightgbm) * lightgbmFits);
      const next = (maxSeconds: number) =>
        proposeTrials({ settings: s, rows, features: 10, folds, history, count: defaults.length, maxSeconds });
      assert.ok(!next(predicted / 0.4 - 1).some((c) => c.algorithm === 'RandomForest'), `left out (${folds} folds)`);
      assert.ok(
        next(predicted / 0.4 + 1).some((c) => c.algorithm === 'RandomForest'),
        `proposed with the time for it (${folds} folds)`,
      );
    }
    // Trials within a second of the fastest are no reference: then nothing untimed is left out.
    const quick = history.map((r) => ({ ...r, seconds: 1.5 }));
    assert.ok(
      proposeTrials({ settings: s, rows, features: 10, history: quick, count: defaults.length, maxSeconds: 1 }).some(
        (c) => c.algorithm === 'RandomForest',
      ),
    );
  });

  test("phase 1: every default, LightGBM's and XGBoost's first, then cheapest first by the cost model", () => {
    const s = settings();
    const rows = 2000;
    const first = proposeTrials({ settings: s, rows, features: 10, history: [], count: 50 }).slice(
      0,
      s.algorithms.length,
    );
    assert.deepEqual(new Set(first.map((c) => c.algorithm)), new Set(s.algorithms));
    for (const c of first) assert.deepEqual(c.params, algorithmEntry('classification', c.algorithm).defaults);
    assert.deepEqual(
      first.slice(0, 2).map((c) => c.algorithm),
      ['LightGBM', 'XGBoostClassifier'],
    );
    const rest = first.slice(2);
    const costs = rest.map((c) => algorithmEntry('classification', c.algorithm).cost(rows, 10, c.params));
    for (let i = 1; i < costs.length; i++)
      assert.ok(
        (costs[i] as number) >= (costs[i - 1] as number),
        `${rest[i]?.algorithm} after ${rest[i - 1]?.algorithm}`,
      );
    assert.equal(rest[0]?.algorithm.endsWith('NaiveBayes'), true);
  });

  test('on large data boosting comes before forests and KNN is gated unless allowed', () => {
    const big = proposeTrials({ settings: settings(), rows: 200_000, features: 20, history: [], count: 11 });
    const order = big.map((c) => c.algorithm);
    assert.ok(!order.includes('KNN'), order.join(', '));
    assert.ok(order.indexOf('LightGBM') < order.indexOf('RandomForest'));
    assert.ok(order.indexOf('LightGBM') < order.indexOf('ExtremeRandomTrees'));
    assert.ok(order.indexOf('LightGBM') < order.indexOf('LogisticRegression'));
    const allowed = settings({ algorithms: ['LightGBM', 'KNN'], allowedAlgorithms: ['LightGBM', 'KNN'] });
    assert.deepEqual(
      proposeTrials({ settings: allowed, rows: 200_000, features: 20, history: [], count: 2 }).map((c) => c.algorithm),
      ['LightGBM', 'KNN'],
    );
  });

  test('from 10,000 rows the better boosting default is refined (η/3, 3× rounds) before the other defaults', () => {
    const s = settings({ primaryMetric: 'AUC_weighted' });
    const boosting = (rows: number) =>
      proposeTrials({ settings: s, rows, features: 20, history: [], count: 2 }).map((config, i) => ({
        config,
        score: i === 0 ? 0.98 : 0.985,
        seconds: 5,
      }));
    for (const rows of [10_000, 80_000]) {
      const history = boosting(rows);
      assert.deepEqual(
        history.map((r) => r.config.algorithm),
        ['LightGBM', 'XGBoostClassifier'],
      );
      // While one of the two has no record yet, nothing is refined.
      const early = proposeTrials({ settings: s, rows, features: 20, history: history.slice(0, 1), count: 2 });
      assert.equal(early[0]?.algorithm, 'XGBoostClassifier');
      for (const c of early) assert.deepEqual(c.params, algorithmEntry('classification', c.algorithm).defaults);
      const [refined, next] = proposeTrials({ settings: s, rows, features: 20, history, count: 2 });
      const xgb = algorithmEntry('classification', 'XGBoostClassifier').defaults;
      assert.deepEqual(refined, {
        algorithm: 'XGBoostClassifier',
        params: { ...xgb, learningRate: 0.1, nEstimators: 300 },
      });
      assert.deepEqual(next?.params, algorithmEntry('classification', next?.algorithm ?? '').defaults);
    }
    const small = proposeTrials({ settings: s, rows: 9_999, features: 20, history: boosting(9_999), count: 2 });
    for (const c of small) assert.deepEqual(c.params, algorithmEntry('classification', c.algorithm).defaults);
  });

  test('deterministic: the same history gives the same proposals', () => {
    const history = run(settings(), 1000, 30);
    const a = proposeTrials({ settings: settings(), rows: 1000, features: 10, history, count: 5 });
    const b = proposeTrials({ settings: settings(), rows: 1000, features: 10, history, count: 5 });
    assert.deepEqual(a, b);
    assert.equal(a.length, 5);
    const c = proposeTrials({ settings: settings({ seed: 1 }), rows: 1000, features: 10, history, count: 5 });
    assert.notDeepEqual(a, c);
  });

  test('never repeats a configuration, and keeps parameters in their ranges', () => {
    const history = run(settings(), 1000, 150);
    assert.equal(history.length, 150);
    const keys = history.map((r) => configKey(r.config));
    assert.equal(new Set(keys).size, keys.length);
    for (const { config } of history) {
      const entry = algorithmEntry('classification', config.algorithm);
      for (const [key, range] of Object.entries(entry.space)) {
        const v = config.params[key];
        if (v === undefined) continue;
        if (range.kind === 'choice') assert.ok(range.values.includes(v), `${config.algorithm}.${key} = ${v}`);
        else {
          assert.equal(typeof v, 'number');
          assert.ok((v as number) >= range.min && (v as number) <= range.max, `${config.algorithm}.${key} = ${v}`);
          if (range.kind === 'int') assert.ok(Number.isInteger(v));
        }
      }
    }
  });

  test('phase 2 searches mostly around the best algorithms, and not algorithms that only failed', () => {
    const s = settings();
    const history = run(s, 1000, 100);
    const phase2 = history.slice(s.algorithms.length);
    const best = phase2.filter((r) => r.config.algorithm === 'LightGBM' || r.config.algorithm === 'RandomForest');
    assert.ok(best.length >= phase2.length * 0.6, `${best.length} of ${phase2.length}`);
    assert.ok(!phase2.some((r) => r.config.algorithm === 'MultinomialNaiveBayes'));
    // The search found lower learning rates, which the fake score rewards.
    const lightgbm = phase2.filter((r) => r.config.algorithm === 'LightGBM').map((r) => r.score as number);
    assert.ok(Math.max(...lightgbm) > (fakeScore({ algorithm: 'LightGBM', params: { learningRate: 0.1 } }) as number));
  });

  test('a history without scores still gets new configurations; count 0 gets none', () => {
    const s = settings({ algorithms: ['LightGBM', 'DecisionTree'] });
    const history: TrialRecord[] = [
      { config: { algorithm: 'DecisionTree', params: { minSamplesLeaf: 1 } } },
      { config: { algorithm: 'LightGBM', params: { ...algorithmEntry('classification', 'LightGBM').defaults } } },
    ];
    const next = proposeTrials({ settings: s, rows: 100, features: 3, history, count: 3 });
    assert.equal(next.length, 0, 'every algorithm failed: nothing sensible is left');
    assert.deepEqual(proposeTrials({ settings: s, rows: 100, features: 3, history: [], count: 0 }), []);
    const scored = [{ ...history[0], score: 0.8 } as TrialRecord, history[1] as TrialRecord];
    const more = proposeTrials({ settings: s, rows: 100, features: 3, history: scored, count: 3 });
    assert.equal(more.length, 3);
    assert.ok(more.every((c) => c.algorithm === 'DecisionTree'));
  });

  test('regression minimizes its metric; forecasting puts its own forecasters first', () => {
    const reg = settings({
      task: 'regression',
      primaryMetric: 'normalized_root_mean_squared_error',
      algorithms: ['ElasticNet', 'LightGBM'],
    });
    const history: TrialRecord[] = [
      { config: { algorithm: 'ElasticNet', params: { alpha: 0.01, l1Ratio: 0.5 } }, score: 0.05 },
      {
        config: { algorithm: 'LightGBM', params: { ...algorithmEntry('regression', 'LightGBM').defaults } },
        score: 0.2,
      },
    ];
    const next = proposeTrials({ settings: reg, rows: 500, features: 5, history, count: 10 });
    const elastic = next.filter((c) => c.algorithm === 'ElasticNet').length;
    assert.ok(elastic >= 5, `ElasticNet (the lower error) gets most of the search: ${elastic} of 10`);
    const fc = proposeTrials({
      settings: settings({
        task: 'forecasting',
        primaryMetric: 'normalized_root_mean_squared_error',
        algorithms: ['Naive', 'SeasonalNaive', 'LightGBM'],
      }),
      rows: 500,
      features: 5,
      history: [],
      count: 3,
    });
    assert.deepEqual(
      fc.map((c) => c.algorithm),
      ['Naive', 'SeasonalNaive', 'LightGBM'],
    );
  });
});

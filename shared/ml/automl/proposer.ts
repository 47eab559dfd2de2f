/**
 * What the next trials of a job train, from the trials so far. Deterministic: the same settings,
 * data size and history always give the same proposals (the Rng is seeded by the job's seed and the
 * history's length), so a replayed parent job proposes what it proposed before.
 *
 * Phase 1: each allowed algorithm's default configuration, LightGBM's and XGBoost's first, then
 * cheapest first by the registry's cost model on this data size (on large data histogram boosting
 * comes before forests and linear models with many passes). From 10,000 rows, the better of those
 * two boosting defaults is refined (a third of the learning rate, three times the rounds) right
 * after them, before the other defaults. Phase 2, once every default has been tried: local
 * search. Four times in five,
 * one of the best two or three algorithms (by their best score) has its best configuration
 * perturbed: each searched hyperparameter moves with probability one half, by a Gaussian step in
 * its (log-)scaled range whose width shrinks as that algorithm's trials accumulate. One time in
 * five, a random configuration of another algorithm is drawn, so that an algorithm whose default
 * was poor still gets a second look. A configuration already in the history (or in the batch) is
 * never proposed again.
 */
import { isBetter, metricGoal } from '../metrics.js';
import { Rng } from '../rng.js';
import { ALGORITHMS, keepsFoldBag } from './algorithms.js';
import type { AlgorithmEntry, ParamRange } from './algorithms.js';
import type { AutomlSettings, ParamValue, TabularTask, TrialConfig, TrialRecord } from './types.js';

export interface ProposeInput {
  settings: AutomlSettings;
  /** Training rows and raw feature columns: the cost model's inputs and the size gates'. */
  rows: number;
  features: number;
  /** Classification: the number of classes (multiclass boosting costs one tree per class). */
  classes?: number;
  /**
   * The folds trials are scored on (1: one validation split; default 1). A trial fits once per
   * fold, plus once on every row unless it keeps its fold bag (algorithms.ts foldBag): the
   * predictions count those fits, so that a bagging algorithm's seconds and a refitting one's
   * compare.
   */
  folds?: number;
  history: readonly TrialRecord[];
  count: number;
  /**
   * Seconds left before the job's timeout: a configuration predicted to take longer is not
   * proposed (a trial cut off by the timeout is wasted). Predictions scale the registry's cost by
   * the seconds per cost unit the algorithm's earlier trials took (their median). An algorithm not
   * timed yet is predicted from the others (see secondsPredictor) and left out when that takes
   * more than UNTIMED_SHARE of the time left: a slow default started late holds its slot, and the
   * round it is in, for the rest of the budget (a random forest on 16,000 rows: 30 s of 51).
   */
  maxSeconds?: number;
}

/**
 * The algorithms whose defaults come first, in this order (when allowed): the strongest defaults on
 * most tabular data. On large data only a few trials fit in the budget, and these must be among them.
 */
const FIRST_ALGORITHMS: readonly string[] = ['LightGBM', 'XGBoostClassifier', 'XGBoostRegressor'];
/**
 * Training rows from which the boosting defaults are followed at once by a refinement of the best
 * of them, before any other default: on data this large a 60-second budget fits only a handful of
 * trials, and more boosting rounds at a lower learning rate is what pays most there.
 */
const LARGE_DATA_ROWS = 10_000;
/**
 * The refinement: a third of the learning rate, three times the rounds (at most 500); early stopping
 * decides how many are kept. (synth_clf_100k, XGBoost's default shape: holdout AUC 0.98565 with
 * η 0.3 × 100 rounds, 0.98663 with η 0.1 × 300.)
 */
const REFINE_LEARNING_RATE = 1 / 3;
const REFINE_ROUNDS = 3;
const MAX_REFINE_ROUNDS = 500;
/** Share of phase-2 proposals that explore another algorithm. */
const EXPLORE = 0.2;
/** Attempts at a new configuration before giving up on one proposal. */
const ATTEMPTS = 40;

/** A configuration's identity: the algorithm and its parameters in key order. */
export function configKey(config: TrialConfig): string {
  const keys = Object.keys(config.params).sort();
  return JSON.stringify([config.algorithm, keys.map((k) => [k, config.params[k]])]);
}

interface Candidate {
  name: string;
  /** Undefined for forecasting's statistical forecasters (no hyperparameters to search). */
  entry?: AlgorithmEntry;
  cost: number;
}

function candidates(settings: AutomlSettings, rows: number, features: number, classes?: number): Candidate[] {
  const task: TabularTask = settings.task === 'classification' ? 'classification' : 'regression';
  const allowed = new Set(settings.allowedAlgorithms ?? []);
  const out: Candidate[] = [];
  for (const name of settings.algorithms) {
    const entry = ALGORITHMS[task].find((a) => a.name === name);
    if (entry === undefined) {
      // Forecasting's own forecasters: no search space, next to no cost.
      if (settings.task === 'forecasting') out.push({ name, cost: 0 });
      continue;
    }
    if (entry.maxRows !== undefined && rows > entry.maxRows && !allowed.has(name)) continue;
    out.push({ name, entry, cost: entry.cost(rows, Math.max(1, features), entry.defaults, classes) });
  }
  // LightGBM's default first, then XGBoost's — the strongest defaults on most tabular data, and
  // affordable at any size — then cheapest first. Stable: equal costs keep the registry's order.
  const first = (c: Candidate): number => {
    const at = settings.task === 'forecasting' ? -1 : FIRST_ALGORITHMS.indexOf(c.name);
    return at < 0 ? FIRST_ALGORITHMS.length : at;
  };
  return out
    .map((c, i) => ({ c, i }))
    .sort((a, b) => first(a.c) - first(b.c) || a.c.cost - b.c.cost || a.i - b.i)
    .map(({ c }) => c);
}

/** A number rounded to 4 significant digits, so configs stay readable and repeats are caught. */
function round4(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(4));
}

function toUnit(range: ParamRange & { kind: 'float' | 'int' }, v: number): number {
  if (range.log === true) return (Math.log(v) - Math.log(range.min)) / (Math.log(range.max) - Math.log(range.min));
  return (v - range.min) / (range.max - range.min);
}

function fromUnit(range: ParamRange & { kind: 'float' | 'int' }, u: number): number {
  const t = Math.min(1, Math.max(0, u));
  const v =
    range.log === true
      ? Math.exp(Math.log(range.min) + t * (Math.log(range.max) - Math.log(range.min)))
      : range.min + t * (range.max - range.min);
  return range.kind === 'int' ? Math.min(range.max, Math.max(range.min, Math.round(v))) : round4(v);
}

function gaussian(rng: Rng): number {
  // Box-Muller; 1 - next() is in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function sample(range: ParamRange, rng: Rng): ParamValue {
  if (range.kind === 'choice') return range.values[rng.int(range.values.length)] as ParamValue;
  return fromUnit(range, rng.next());
}

function randomConfig(entry: AlgorithmEntry, rng: Rng): TrialConfig {
  const params: Record<string, ParamValue> = { ...entry.defaults };
  for (const [key, range] of Object.entries(entry.space)) params[key] = sample(range, rng);
  return { algorithm: entry.name, params };
}

function perturb(entry: AlgorithmEntry, parent: TrialConfig, step: number, rng: Rng): TrialConfig {
  const params: Record<string, ParamValue> = { ...parent.params };
  const keys = Object.keys(entry.space);
  if (keys.length === 0) return { algorithm: entry.name, params };
  const forced = keys[rng.int(keys.length)] as string;
  for (const key of keys) {
    if (key !== forced && rng.next() >= 0.5) continue;
    const range = entry.space[key] as ParamRange;
    const current = params[key];
    if (range.kind === 'choice') {
      const others = range.values.filter((v) => v !== current);
      if (others.length > 0) params[key] = others[rng.int(others.length)] as ParamValue;
    } else if (typeof current !== 'number' || !Number.isFinite(current)) {
      params[key] = sample(range, rng);
    } else {
      let next = fromUnit(range, toUnit(range, current) + step * gaussian(rng));
      // An integer step too small to move: one unit either way.
      if (next === current && range.kind === 'int')
        next = Math.min(range.max, Math.max(range.min, current + (rng.next() < 0.5 ? -1 : 1)));
      params[key] = next;
    }
  }
  return { algorithm: entry.name, params };
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The share of the time left an algorithm not timed yet may be predicted to take. */
const UNTIMED_SHARE = 0.4;
/**
 * Seconds beyond the fastest trial's that make a trial's rate a usable reference for other
 * algorithms: below this, what varies between trials is mostly noise.
 */
const REFERENCE_VARIABLE_SECONDS = 1;

interface SecondsPredictor {
  /** From the algorithm's own trials; undefined when it has none. */
  own(config: TrialConfig): number | undefined;
  /** From the other algorithms' trials; undefined before any is timed. */
  others(config: TrialConfig): number | undefined;
}

/**
 * Predicted seconds of a configuration from the earlier trials' seconds per cost unit. An
 * algorithm's own trials predict it best: a trial's seconds are mostly fixed costs (the process,
 * featurizing, folds) on small configurations, so one algorithm's rate says little of another's.
 * For an algorithm without trials, the fixed part is the fastest trial so far and the rest is its
 * cost at the median variable rate of the algorithms timed (those of their trials that took at
 * least REFERENCE_VARIABLE_SECONDS longer than the fastest; on small data there are none, and
 * nothing is predicted).
 */
function secondsPredictor(
  pool: readonly Candidate[],
  rows: number,
  features: number,
  classes: number | undefined,
  folds: number,
  history: readonly TrialRecord[],
): SecondsPredictor {
  const entries = new Map(pool.flatMap((c) => (c.entry === undefined ? [] : [[c.name, c.entry] as const])));
  // One fit per fold, and one on every row unless the trial keeps its fold bag.
  const fitsOf = (entry: AlgorithmEntry): number => (keepsFoldBag(entry, folds) ? folds : folds + 1);
  const costOf = (config: TrialConfig): number | undefined => {
    const entry = entries.get(config.algorithm);
    return entry === undefined
      ? undefined
      : entry.cost(rows, Math.max(1, features), config.params, classes) * fitsOf(entry);
  };
  // Each timed trial's seconds and cost, once.
  const timed = history.flatMap((r) => {
    const cost = costOf(r.config);
    return r.seconds === undefined || cost === undefined || !(cost > 0)
      ? []
      : [{ algorithm: r.config.algorithm, seconds: r.seconds, cost }];
  });
  const push = (map: Map<string, number[]>, key: string, v: number): void => {
    map.set(key, [...(map.get(key) ?? []), v]);
  };
  const rates = new Map<string, number[]>();
  for (const t of timed) push(rates, t.algorithm, t.seconds / t.cost);
  const fixed = Math.min(...timed.map((t) => t.seconds));
  const variable = new Map<string, number[]>();
  for (const t of timed) {
    const beyond = t.seconds - fixed;
    if (beyond >= REFERENCE_VARIABLE_SECONDS) push(variable, t.algorithm, beyond / t.cost);
  }
  const otherRate = median([...variable.values()].map((v) => median(v) as number));
  return {
    own(config) {
      const cost = costOf(config);
      const own = median(rates.get(config.algorithm) ?? []);
      return cost === undefined || own === undefined ? undefined : cost * own;
    },
    others(config) {
      const cost = costOf(config);
      return cost === undefined || otherRate === undefined ? undefined : fixed + cost * otherRate;
    },
  };
}

/**
 * The best-scoring default of FIRST_ALGORITHMS with a third of its learning rate and three times
 * its rounds, once every one of those defaults in the pool has a score; undefined before.
 */
function boostingRefinement(
  pool: readonly Candidate[],
  history: readonly TrialRecord[],
  settings: AutomlSettings,
): TrialConfig | undefined {
  let best: TrialRecord | undefined;
  for (const c of pool) {
    if (!FIRST_ALGORITHMS.includes(c.name) || c.entry === undefined) continue;
    const defaults = configKey({ algorithm: c.name, params: { ...c.entry.defaults } });
    const record = history.find((r) => configKey(r.config) === defaults);
    if (record === undefined) return undefined;
    if (record.score === undefined || !Number.isFinite(record.score)) continue;
    if (best === undefined || isBetter(settings.primaryMetric, record.score, best.score as number)) best = record;
  }
  if (best === undefined) return undefined;
  const { learningRate, nEstimators } = best.config.params;
  if (typeof learningRate !== 'number' || typeof nEstimators !== 'number') return undefined;
  return {
    algorithm: best.config.algorithm,
    params: {
      ...best.config.params,
      learningRate: round4(learningRate * REFINE_LEARNING_RATE),
      nEstimators: Math.min(MAX_REFINE_ROUNDS, nEstimators * REFINE_ROUNDS),
    },
  };
}

/** The next `count` configurations to try (fewer, or none, only when nothing new is left). */
export function proposeTrials(input: ProposeInput): TrialConfig[] {
  const { settings, rows, features, history } = input;
  const count = Math.max(0, Math.floor(input.count));
  if (count === 0) return [];
  const pool = candidates(settings, rows, features, input.classes);
  const seen = new Set(history.map((r) => configKey(r.config)));
  const out: TrialConfig[] = [];
  const predict = secondsPredictor(pool, rows, features, input.classes, Math.max(1, input.folds ?? 1), history);
  const add = (config: TrialConfig): boolean => {
    const key = configKey(config);
    if (seen.has(key)) return false;
    if (input.maxSeconds !== undefined) {
      const own = predict.own(config);
      const limit = own === undefined ? UNTIMED_SHARE * input.maxSeconds : input.maxSeconds;
      if ((own ?? predict.others(config) ?? 0) > limit) return false;
    }
    seen.add(key);
    out.push(config);
    return true;
  };

  // Phase 1: defaults, LightGBM's and XGBoost's first, cheapest first after them; on large data the
  // refinement of the better of those two right after them.
  const refinement = rows >= LARGE_DATA_ROWS ? boostingRefinement(pool, history, settings) : undefined;
  let refined = refinement === undefined;
  for (const c of pool) {
    if (out.length >= count) return out;
    if (!refined && !FIRST_ALGORITHMS.includes(c.name)) {
      add(refinement as TrialConfig);
      refined = true;
      if (out.length >= count) return out;
    }
    add({ algorithm: c.name, params: { ...(c.entry?.defaults ?? {}) } });
  }
  if (!refined) add(refinement as TrialConfig);

  // Phase 2: local search around the best algorithms, some exploration.
  const searchable = pool.filter((c): c is Candidate & { entry: AlgorithmEntry } => c.entry !== undefined);
  if (searchable.length === 0) return out;
  const rng = new Rng(settings.seed).fork(history.length);
  const maximize = metricGoal(settings.primaryMetric) === 'maximize';
  const better = (a: number, b: number): boolean => (maximize ? a > b : a < b);

  // Best records per algorithm (scored ones), best first; algorithms by their best.
  const byAlgorithm = new Map<string, { records: TrialRecord[]; trials: number }>();
  for (const r of history) {
    const slot = byAlgorithm.get(r.config.algorithm) ?? { records: [], trials: 0 };
    slot.trials++;
    if (r.score !== undefined && Number.isFinite(r.score)) slot.records.push(r);
    byAlgorithm.set(r.config.algorithm, slot);
  }
  for (const slot of byAlgorithm.values()) {
    slot.records.sort((a, b) =>
      better(a.score as number, b.score as number) ? -1 : better(b.score as number, a.score as number) ? 1 : 0,
    );
  }
  const ranked = searchable
    .filter((c) => (byAlgorithm.get(c.name)?.records.length ?? 0) > 0)
    .sort((a, b) => {
      const sa = byAlgorithm.get(a.name)?.records[0]?.score as number;
      const sb = byAlgorithm.get(b.name)?.records[0]?.score as number;
      return better(sa, sb) ? -1 : better(sb, sa) ? 1 : 0;
    });
  const top = ranked.slice(0, ranked.length >= 6 ? 3 : 2);
  // Never explore an algorithm whose every trial failed: it would most likely fail again.
  const failedOnly = (c: Candidate): boolean => {
    const slot = byAlgorithm.get(c.name);
    return slot !== undefined && slot.trials > 0 && slot.records.length === 0;
  };
  const others = searchable.filter((c) => !top.includes(c) && !failedOnly(c));
  const explorable = others.length > 0 ? others : searchable.filter((c) => !failedOnly(c));

  while (out.length < count) {
    let added = false;
    for (let attempt = 0; attempt < ATTEMPTS && !added; attempt++) {
      const explore = top.length === 0 || rng.next() < EXPLORE || attempt >= ATTEMPTS / 2;
      if (explore) {
        if (explorable.length === 0) break;
        const c = explorable[rng.int(explorable.length)] as Candidate & { entry: AlgorithmEntry };
        added = add(randomConfig(c.entry, rng));
        continue;
      }
      // Weights 3 : 2 : 1 for the best, second and third algorithm.
      const weights = top.map((_, i) => top.length - i);
      let pick = rng.next() * weights.reduce((a, b) => a + b, 0);
      let chosen = top[0] as Candidate & { entry: AlgorithmEntry };
      for (let i = 0; i < top.length; i++) {
        pick -= weights[i] as number;
        if (pick < 0) {
          chosen = top[i] as Candidate & { entry: AlgorithmEntry };
          break;
        }
      }
      const slot = byAlgorithm.get(chosen.name) as { records: TrialRecord[]; trials: number };
      // The best configuration mostly, the runner-up sometimes.
      const parent = (slot.records.length > 1 && rng.next() < 0.3 ? slot.records[1] : slot.records[0]) as TrialRecord;
      const step = Math.max(0.03, 0.35 / Math.sqrt(1 + slot.trials / 4));
      added = add(perturb(chosen.entry, parent.config, step, rng));
    }
    if (!added) break;
  }
  return out;
}

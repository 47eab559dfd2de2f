import type { EarlyTermination } from '../contracts/azureml/job-sweep.js';

/**
 * Azure ML's early termination policies for sweep trials, as pure decisions on the trials' metric
 * histories. An interval is one logged value of the primary metric: a trial that has logged k
 * values has reached interval k. A policy applies at the intervals N that are multiples of
 * `evaluation_interval` (default 1) and at least `delay_evaluation` (default 0); a running trial is
 * judged at the latest such N it has reached, on its best value up to N, against the other
 * trials' values up to the same N (a young trial is never compared with older trials' later
 * values):
 *
 * - `bandit`: stopped when its best is outside the slack of the best trial's best at N —
 *   maximize: below best / (1 + slack_factor) or best - slack_amount; minimize: above
 *   best × (1 + slack_factor) or best + slack_amount.
 * - `median_stopping`: stopped when its best is worse than the median of the trials' running
 *   averages of intervals 1..N.
 * - `truncation_selection`: the lowest `truncation_percentage` percent (rounded down) of the
 *   trials that reached N, ranked by their best up to N, are stopped if running
 *   (`exclude_finished_jobs`: finished trials are left out of the ranking).
 */

export interface TrialMetricHistory {
  name: string;
  /** The primary metric's logged values, in logging order. */
  values: readonly number[];
  /** Still running (only running trials are stopped; finished ones are compared against). */
  running: boolean;
}

export interface TerminationDecision {
  name: string;
  interval: number;
  /** Why, for the trial's notice: "stopped by the <policy> policy at interval N: <reason>". */
  reason: string;
}

type Goal = 'maximize' | 'minimize';

/** The intervals a policy applies at: multiples of evaluation_interval, from delay_evaluation on. */
export function appliesAt(policy: EarlyTermination, interval: number): boolean {
  const every = Math.max(1, policy.evaluation_interval ?? 1);
  return interval >= 1 && interval >= (policy.delay_evaluation ?? 0) && interval % every === 0;
}

/** The latest interval at or below `reached` at which the policy applies, or undefined. */
export function latestEvaluation(policy: EarlyTermination, reached: number): number | undefined {
  const every = Math.max(1, policy.evaluation_interval ?? 1);
  const n = Math.floor(reached / every) * every;
  return appliesAt(policy, n) ? n : undefined;
}

const better = (goal: Goal, a: number, b: number): boolean => (goal === 'maximize' ? a > b : a < b);

function bestUpTo(goal: Goal, values: readonly number[], n: number): number {
  let best = values[0] as number;
  for (let i = 1; i < n; i++) if (better(goal, values[i] as number, best)) best = values[i] as number;
  return best;
}

function meanUpTo(values: readonly number[], n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i] as number;
  return s / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const fmt = (x: number): string => String(Number(x.toPrecision(6)));

/** The running trials the policy stops now, each with the interval and the reason. */
export function decideTerminations(
  policy: EarlyTermination,
  goal: Goal,
  metric: string,
  trials: readonly TrialMetricHistory[],
): TerminationDecision[] {
  const out: TerminationDecision[] = [];
  const usable = trials.map((t) => ({ ...t, values: t.values.filter((v) => Number.isFinite(v)) }));
  for (const trial of usable) {
    if (!trial.running) continue;
    const n = latestEvaluation(policy, trial.values.length);
    if (n === undefined) continue;
    const mine = bestUpTo(goal, trial.values, n);
    const peers = usable.filter((t) => t.values.length >= n);
    switch (policy.type) {
      case 'bandit': {
        let leader = peers[0] as (typeof peers)[number];
        let best = bestUpTo(goal, leader.values, n);
        for (const p of peers) {
          const b = bestUpTo(goal, p.values, n);
          if (better(goal, b, best)) [leader, best] = [p, b];
        }
        if (leader.name === trial.name) break;
        const factor = policy.slack_factor;
        const amount = policy.slack_amount ?? 0;
        const cutoff =
          factor !== undefined
            ? goal === 'maximize'
              ? best / (1 + factor)
              : best * (1 + factor)
            : goal === 'maximize'
              ? best - amount
              : best + amount;
        if (better(goal, cutoff, mine)) {
          const slack = factor !== undefined ? `slack_factor ${fmt(factor)}` : `slack_amount ${fmt(amount)}`;
          out.push({
            name: trial.name,
            interval: n,
            reason: `its best ${metric} ${fmt(mine)} is ${goal === 'maximize' ? 'below' : 'above'} ${fmt(cutoff)}, the best trial's (${leader.name}) ${fmt(best)} with ${slack}`,
          });
        }
        break;
      }
      case 'median_stopping': {
        const m = median(peers.map((p) => meanUpTo(p.values, n)));
        if (better(goal, m, mine)) {
          out.push({
            name: trial.name,
            interval: n,
            reason: `its best ${metric} ${fmt(mine)} is worse than ${fmt(m)}, the median of ${peers.length} trials' running averages over intervals 1..${n}`,
          });
        }
        break;
      }
      case 'truncation_selection': {
        const ranked = peers
          .filter((p) => p.running || p.name === trial.name || policy.exclude_finished_jobs !== true)
          .map((p) => ({ name: p.name, best: bestUpTo(goal, p.values, n) }))
          // Worst first; ties keep the trial order, so the decision is the same on every evaluation.
          .sort((a, b) => (better(goal, a.best, b.best) ? 1 : better(goal, b.best, a.best) ? -1 : 0));
        const cut = Math.floor((ranked.length * policy.truncation_percentage) / 100);
        const rank = ranked.findIndex((r) => r.name === trial.name);
        if (rank < cut) {
          out.push({
            name: trial.name,
            interval: n,
            reason: `its best ${metric} ${fmt(mine)} ranks ${rank + 1} from the bottom of ${ranked.length} trials at this interval, within the lowest ${policy.truncation_percentage}%`,
          });
        }
        break;
      }
    }
  }
  return out;
}

/** Checks a policy's settings (Azure ML's rules), naming the key and what to do. */
export function policyProblem(policy: EarlyTermination): { key: string; message: string } | undefined {
  if (policy.type === 'bandit') {
    if ((policy.slack_factor === undefined) === (policy.slack_amount === undefined)) {
      return { key: 'slack_factor', message: 'a bandit policy takes exactly one of slack_factor and slack_amount.' };
    }
    if ((policy.slack_factor ?? 0) < 0 || (policy.slack_amount ?? 0) < 0) {
      return {
        key: policy.slack_factor !== undefined ? 'slack_factor' : 'slack_amount',
        message: 'the slack must not be negative.',
      };
    }
  }
  if (
    policy.type === 'truncation_selection' &&
    !(policy.truncation_percentage >= 1 && policy.truncation_percentage <= 99)
  ) {
    return {
      key: 'truncation_percentage',
      message: `must be an integer from 1 to 99; got ${policy.truncation_percentage}.`,
    };
  }
  return undefined;
}

import { z } from 'zod';
import {
  byShape,
  byType,
  ciEnum,
  isRecord,
  jobInputs,
  jobOutputs,
  jobResources,
  literalValue,
  queueSettings,
  yamlCount,
  yamlInt,
  yamlNumber,
} from './common.js';
import type { LiteralValue } from './common.js';
import { baseJobFields, commandFields } from './job-command.js';

/**
 * Sweep jobs: hyperparameter tuning. A `trial` command is run once per sample of `search_space`
 * (bound through `${{search_space.x}}`), sampled by `sampling_algorithm`, judged by `objective`,
 * stopped early by `early_termination`, within `limits`. The pieces are shared with AutoML sweeps
 * and pipeline sweep nodes.
 */

/** A search-space distribution. `choice` values may nest further search spaces. */
export type SearchDistribution =
  | { type: 'choice'; values: ChoiceValue[] }
  | { type: 'randint'; upper: number }
  | { type: 'uniform' | 'loguniform'; min_value: number; max_value: number }
  | { type: 'quniform' | 'qloguniform'; min_value: number; max_value: number; q: number }
  | { type: 'normal' | 'lognormal'; mu: number; sigma: number }
  | { type: 'qnormal' | 'qlognormal'; mu: number; sigma: number; q: number };

/** One option of a `choice`: a value, or a nested search space (name to distribution or value). */
export type ChoiceValue = LiteralValue | null | Record<string, SearchDistribution | LiteralValue | null>;

const nestedSpaceEntry: z.ZodType<SearchDistribution | LiteralValue | null> = z.lazy(() =>
  byShape([searchDistribution, literalValue.nullable()], (v) =>
    isRecord(v) ? searchDistribution : literalValue.nullable(),
  ),
);

const choiceValue: z.ZodType<ChoiceValue> = z.lazy(() =>
  byShape([z.record(z.string(), nestedSpaceEntry), literalValue.nullable()], (v) =>
    isRecord(v) ? z.record(z.string(), nestedSpaceEntry) : literalValue.nullable(),
  ),
);

const range = { min_value: yamlNumber, max_value: yamlNumber };
const gaussian = { mu: yamlNumber, sigma: yamlNumber };

export const searchDistribution: z.ZodType<SearchDistribution> = byType({
  choice: z.strictObject({ type: z.literal('choice'), values: z.array(choiceValue).min(1) }),
  randint: z.strictObject({ type: z.literal('randint'), upper: yamlInt }),
  uniform: z.strictObject({ type: z.literal('uniform'), ...range }),
  loguniform: z.strictObject({ type: z.literal('loguniform'), ...range }),
  quniform: z.strictObject({ type: z.literal('quniform'), ...range, q: yamlNumber }),
  qloguniform: z.strictObject({ type: z.literal('qloguniform'), ...range, q: yamlNumber }),
  normal: z.strictObject({ type: z.literal('normal'), ...gaussian }),
  lognormal: z.strictObject({ type: z.literal('lognormal'), ...gaussian }),
  qnormal: z.strictObject({ type: z.literal('qnormal'), ...gaussian, q: yamlNumber }),
  qlognormal: z.strictObject({ type: z.literal('qlognormal'), ...gaussian, q: yamlNumber }),
});

/** `search_space:` of a sweep job: parameter name to distribution. */
export const searchSpace = z.record(z.string(), searchDistribution);

const samplingObject = byType({
  random: z.strictObject({
    type: z.literal('random'),
    seed: yamlInt.optional(),
    rule: ciEnum(['random', 'sobol']).optional(),
    logbase: z.union([yamlNumber, z.literal('e')]).optional(),
  }),
  grid: z.strictObject({ type: z.literal('grid') }),
  bayesian: z.strictObject({ type: z.literal('bayesian') }),
});
const samplingName = ciEnum(['random', 'grid', 'bayesian']);

/** `sampling_algorithm:` — `random`, `grid`, `bayesian`, or the object form (`{type: random, rule: sobol, seed: 7}`). */
export const samplingAlgorithm = byShape([samplingName, samplingObject], (v) =>
  typeof v === 'string' ? samplingName : samplingObject,
);
export type SamplingAlgorithm = z.output<typeof samplingAlgorithm>;

const policyTiming = { evaluation_interval: yamlCount.optional(), delay_evaluation: yamlCount.optional() };

/** `early_termination:` — stop poorly performing trials. */
export const earlyTermination = byType({
  bandit: z.strictObject({
    type: z.literal('bandit'),
    ...policyTiming,
    slack_factor: yamlNumber.optional(),
    slack_amount: yamlNumber.optional(),
  }),
  median_stopping: z.strictObject({ type: z.literal('median_stopping'), ...policyTiming }),
  truncation_selection: z.strictObject({
    type: z.literal('truncation_selection'),
    ...policyTiming,
    truncation_percentage: yamlInt,
    exclude_finished_jobs: z.boolean().optional(),
  }),
});
export type EarlyTermination = z.output<typeof earlyTermination>;

/** `objective:` — which logged metric to optimise, and in which direction. */
export const objective = z.strictObject({
  goal: ciEnum(['minimize', 'maximize']),
  primary_metric: z.string().min(1),
});

/** `limits:` of a sweep. */
export const sweepLimits = z.strictObject({
  max_total_trials: yamlCount.optional(),
  max_concurrent_trials: yamlCount.optional(),
  timeout: yamlCount.optional(),
  trial_timeout: yamlCount.optional(),
});

/** Keys that describe the sweep itself, shared by sweep jobs and pipeline sweep nodes. */
export const sweepFields = {
  search_space: searchSpace,
  sampling_algorithm: samplingAlgorithm,
  objective,
  limits: sweepLimits.optional(),
  early_termination: earlyTermination.optional(),
};

/** The trial of a standalone sweep job: a command, without inputs or outputs of its own. */
export const sweepTrial = z.strictObject(commandFields);

export const sweepJobSchema = z.strictObject({
  type: z.literal('sweep'),
  ...baseJobFields,
  ...sweepFields,
  trial: sweepTrial,
  inputs: jobInputs.optional(),
  outputs: jobOutputs.optional(),
  resources: jobResources.optional(),
  queue_settings: queueSettings.optional(),
});
export type SweepJobSpec = z.output<typeof sweepJobSchema>;

import { z } from 'zod';
import { pageQuerySchema } from './paging.js';

/**
 * Jobs of a workspace: the stored document, what the REST API returns, the queue messages the
 * trainer sends, and the data that crosses the `commandJob` orchestration boundary.
 */

export const JOBS_CONTAINER = 'jobs';
export const COMMAND_JOB_ORCHESTRATION = 'commandJob';
export const JOB_START_ACTIVITY = 'job-start';
export const JOB_STOP_ACTIVITY = 'job-stop';
export const JOB_FINALIZE_ACTIVITY = 'job-finalize';
/** The trial engine: sweep jobs (and AutoML) propose trials, run them as command jobs, pick the best. */
export const TRIAL_SWEEP_ORCHESTRATION = 'trialSweep';
/** AutoML jobs run on the same trial engine, under this name. */
export const AUTOML_JOB_ORCHESTRATION = 'automlJob';
export const TRIALS_PROPOSE_ACTIVITY = 'trials-propose';
export const TRIALS_CANCEL_ACTIVITY = 'trials-cancel';
export const TRIALS_FINALIZE_ACTIVITY = 'trials-finalize';
/** A sweep's early termination policy, applied to its running trials every few seconds. */
export const TRIALS_EVALUATE_ACTIVITY = 'trials-evaluate';
/** The orchestration that runs a job of this type. */
export function orchestrationOf(type: string): string {
  return type === 'sweep'
    ? TRIAL_SWEEP_ORCHESTRATION
    : type === 'automl'
      ? AUTOML_JOB_ORCHESTRATION
      : COMMAND_JOB_ORCHESTRATION;
}
/** External events of the `commandJob` orchestration. */
export const JOB_FINISHED_EVENT = 'JobFinished';
export const JOB_CANCEL_EVENT = 'JobCancel';
/** The queue the trainer reports to (progress and completion). */
export const JOB_EVENTS_QUEUE = 'job-events';
/** Attempts of one job when the infrastructure fails (a lost trainer, a compute that would not start). */
export const MAX_JOB_ATTEMPTS = 3;

/** Azure ML's job statuses, in lifecycle order; the last three are terminal. */
export const JOB_STATUSES = [
  'Queued',
  'Preparing',
  'Running',
  'Finalizing',
  'Completed',
  'Failed',
  'Canceled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_STATUSES: readonly JobStatus[] = ['Completed', 'Failed', 'Canceled'];
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
/** Progress the trainer reports; a job never goes back to an earlier one. */
export const PROGRESS_STATUSES = ['Preparing', 'Running', 'Finalizing'] as const;
export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];

/** Job names as Azure ML allows them. */
export const jobNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/, {
  error: "A job name has 1-255 letters, digits, '-' or '_', and starts with a letter or digit",
});

/** How an input reaches the command, resolved when the job is prepared. */
export type ResolvedInput =
  | { kind: 'literal'; value: string }
  | {
      kind: 'data';
      /** uri_file, uri_folder, mltable, custom_model, mlflow_model, triton_model */
      type: string;
      /** ro_mount and download are staged as a download; direct passes the URI. */
      mode: 'download' | 'direct';
      /** A datastore, storage or http(s) URI. */
      uri: string;
      /** `azureml:name:version` when the input is an asset. */
      asset?: string;
    };

/** Where an output is written and what it becomes. */
export interface ResolvedOutput {
  type: string;
  /** `azureml://datastores/<ds>/paths/<path>/`, ending in '/' for folders. */
  uri: string;
  /** Register as this asset (data for uri_*, model for *_model) when the job completes. */
  name?: string;
  version?: string;
  description?: string;
}

/** What the trainer runs: everything resolved, nothing left to look up but the data itself. */
export interface JobExecution {
  attempt: number;
  /** The command with `${{inputs.x}}` / `${{outputs.y}}` left in place: the trainer binds them to local paths. */
  command: string;
  /** `azureml://datastores/<ds>/paths/LocalUpload/<hash>/<name>/` or undefined (no code). */
  code?: string;
  inputs: Record<string, ResolvedInput>;
  outputs: Record<string, ResolvedOutput>;
  environmentVariables: Record<string, string>;
  /** Where logs and run artifacts go: a datastore URI folder ending in '/'. */
  artifactsUri: string;
  mlflow: { trackingUri: string; runId: string; experimentId: string; experimentName: string };
  /** Seconds; undefined: no limit. */
  timeoutSeconds?: number;
  /** Processes to start (resources.instance_count × process_count_per_instance); ranks get RANK etc. */
  processCount: number;
  distribution?: string;
}

export interface JobError {
  code: string;
  message: string;
}

export interface StatusChange {
  status: JobStatus;
  /** Epoch ms. */
  at: number;
}

export interface JobOutputView {
  type: string;
  uri: string;
  /** `azureml:name:version` once registered. */
  asset?: string;
}

/** A job as the API returns it. */
/** A sweep's trials so far, best first (as its parent job shows them). */
export interface TrialSummary {
  primary_metric: string;
  goal: 'maximize' | 'minimize';
  /** Trials created so far, and how many the limits allow. */
  created: number;
  max_total_trials: number;
  /** Completed trials (and sweep trials the policy stopped) with the primary metric, best first. */
  leaderboard: {
    name: string;
    value: number;
    parameters: Record<string, string | number | boolean>;
    /** AutoML: the trial's algorithm (Azure ML name, or VotingEnsemble / StackEnsemble). */
    algorithm?: string;
  }[];
  best?: string;
  /** Sweeps: the trials the early termination policy stopped, and why. */
  stopped?: EarlyStop[];
}

/** A trial stopped by a sweep's early termination policy. */
export interface EarlyStop {
  name: string;
  policy: string;
  interval: number;
  reason: string;
}

/** Permutation importance of a model's raw input columns on holdout rows. */
export interface FeatureImportance {
  metric: string;
  /** The metric on the holdout rows before any column is shuffled. */
  baseline: number;
  /** Where the holdout rows came from: test_data, test_data_size's hold-out, validation_data, the validation split, or the first CV fold. */
  holdout: string;
  rows: number;
  /**
   * Every metric of the explained model on all the holdout rows: with test_data or test_data_size,
   * the best model's test metrics (Azure's test run).
   */
  metrics?: Record<string, number>;
  columns: { column: string; importance: number; std: number }[];
}

/** What an AutoML parent job shows besides its leaderboard. */
export interface AutomlSummary {
  task: string;
  /** setup → search → ensembles → explain → done. */
  phase: 'setup' | 'search' | 'ensembles' | 'explain' | 'done';
  /** The registered best model, `azureml:<name>:<version>`. */
  best_model?: string;
  explanation?: FeatureImportance;
  /** Why the search stopped. */
  stopped?: string;
}

export interface Job {
  name: string;
  workspace: string;
  type: 'command' | 'sweep' | 'automl';
  /** The sweep or AutoML job this job is a trial of. */
  parent?: string;
  trials?: TrialSummary;
  automl?: AutomlSummary;
  display_name?: string;
  description?: string;
  experiment_name: string;
  tags: Record<string, string>;
  status: JobStatus;
  compute: string;
  /** The submitted spec, with local paths replaced by their uploads. */
  spec: Record<string, unknown>;
  statusHistory: StatusChange[];
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  error?: JobError;
  /** Things the user should know (the environment image was not used, the compute was unavailable, ...). */
  notices: string[];
  outputs: Record<string, JobOutputView>;
  /** Where `tessera job stream` reads from: `user_logs/std_log.txt` under this folder. */
  artifacts_uri: string;
  mlflow: { run_id: string; experiment_id: string; tracking_uri: string };
  attempt: number;
  archived: boolean;
  exitCode?: number;
}

export interface JobList {
  value: Job[];
  continuation?: string;
}

export const jobListQuerySchema = pageQuerySchema.extend({
  experiment: z.string().min(1).optional(),
  status: z.enum(JOB_STATUSES).optional(),
  archived: z.enum(['false', 'true', 'all']).optional(),
});
export type JobListQuery = z.output<typeof jobListQuerySchema>;

export const jobLogQuerySchema = z.object({
  offset: z.coerce.number().int().nonnegative().default(0),
});

/** Log responses carry these headers: where the next read starts, and the job's status. */
export const LOG_NEXT_OFFSET_HEADER = 'x-tessera-log-next-offset';
export const JOB_STATUS_HEADER = 'x-tessera-job-status';

// ---------------------------------------------------------------------------------------------
// The trainer's reports (queue JOB_EVENTS_QUEUE).
// ---------------------------------------------------------------------------------------------

/** How an attempt ended: the user's command succeeded or failed, or the infrastructure failed it. */
export const JOB_OUTCOMES = ['succeeded', 'failed', 'infrastructure'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

export const jobProgressMessageSchema = z.object({
  kind: z.literal('progress'),
  workspace: z.string(),
  job: z.string(),
  attempt: z.number().int().positive(),
  status: z.enum(PROGRESS_STATUSES),
  at: z.number(),
  notices: z.array(z.string()).optional(),
});
export type JobProgressMessage = z.output<typeof jobProgressMessageSchema>;

export const jobFinishedMessageSchema = z.object({
  kind: z.literal('finished'),
  workspace: z.string(),
  job: z.string(),
  attempt: z.number().int().positive(),
  outcome: z.enum(JOB_OUTCOMES),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
  at: z.number(),
});
export type JobFinishedMessage = z.output<typeof jobFinishedMessageSchema>;

/** Asks a job's orchestration to cancel it (sent for the trials of a canceled or timed-out sweep). */
export const jobCancelMessageSchema = z.object({
  kind: z.literal('cancel'),
  workspace: z.string(),
  job: z.string(),
  reason: z.string(),
});
export type JobCancelMessage = z.output<typeof jobCancelMessageSchema>;

export const jobEventMessageSchema = z.discriminatedUnion('kind', [
  jobProgressMessageSchema,
  jobFinishedMessageSchema,
  jobCancelMessageSchema,
]);
export type JobEventMessage = z.output<typeof jobEventMessageSchema>;

// ---------------------------------------------------------------------------------------------
// The orchestration boundary.
// ---------------------------------------------------------------------------------------------

export const commandJobInputSchema = z.object({ workspace: z.string(), name: z.string() });
export type CommandJobInput = z.output<typeof commandJobInputSchema>;

export const jobStartInputSchema = commandJobInputSchema.extend({ attempt: z.number().int().positive() });
export type JobStartInput = z.output<typeof jobStartInputSchema>;

/**
 * `started`: the compute took it; `waiting`: the compute is full and has no queue of its own (try
 * again after `retryAfterSeconds`); `ended`: nothing to wait for (canceled before it started).
 */
export const jobStartResultSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('started'), executionId: z.string(), timeoutSeconds: z.number().optional() }),
  z.object({ state: z.literal('waiting'), retryAfterSeconds: z.number().positive(), reason: z.string() }),
  z.object({ state: z.literal('ended') }),
]);
export type JobStartResult = z.output<typeof jobStartResultSchema>;

export const jobStopInputSchema = jobStartInputSchema.extend({ executionId: z.string() });
export type JobStopInput = z.output<typeof jobStopInputSchema>;

/** The event payload of JOB_CANCEL_EVENT. */
export const jobCancelEventSchema = z.object({ reason: z.string().optional() });

export const jobFinalizeInputSchema = jobStartInputSchema.extend({
  outcome: z.enum([...JOB_OUTCOMES, 'canceled', 'timeout']),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
});
export type JobFinalizeInput = z.output<typeof jobFinalizeInputSchema>;

export const jobFinalizeResultSchema = z.object({ status: z.enum(JOB_STATUSES) });

// ---------------------------------------------------------------------------------------------
// The trial engine's orchestration boundary.
// ---------------------------------------------------------------------------------------------

export const trialsProposeInputSchema = commandJobInputSchema.extend({
  round: z.number().int().nonnegative(),
  /** The job's timeout has passed: only the closing steps (AutoML's ensembles and explanation) remain. */
  timedOut: z.boolean().optional(),
});
/** The next batch of trials (command jobs already created), or done with why. */
export const trialsProposeResultSchema = z.object({
  trials: z.array(z.string()),
  done: z.boolean(),
  timeoutSeconds: z.number().optional(),
  /** A sweep with an early termination policy: evaluate it this often while the trials run. */
  evaluateSeconds: z.number().positive().optional(),
  /**
   * Closing steps (AutoML's ensembles and explanation): the job's timeout does not interrupt them,
   * whether it passes before they start or while they run.
   */
  closing: z.boolean().optional(),
});
export type TrialsProposeResult = z.output<typeof trialsProposeResultSchema>;

export const trialsCancelInputSchema = commandJobInputSchema.extend({
  trials: z.array(z.string()),
  reason: z.string(),
});

export const trialsEvaluateInputSchema = commandJobInputSchema.extend({
  /** The trials running now (the round's). */
  trials: z.array(z.string()),
});
/** The trials the policy stopped in this evaluation (their cancel already requested). */
export const trialsEvaluateResultSchema = z.object({ stopped: z.array(z.string()) });
export type TrialsEvaluateResult = z.output<typeof trialsEvaluateResultSchema>;

export const trialsFinalizeInputSchema = commandJobInputSchema.extend({
  outcome: z.enum(['completed', 'canceled', 'timeout']),
});

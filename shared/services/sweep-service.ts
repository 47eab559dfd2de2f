import { createHash } from 'node:crypto';
import { parseSpec } from '../contracts/azureml/index.js';
import type { SweepJobSpec } from '../contracts/azureml/index.js';
import { JOBS_CONTAINER, JOB_EVENTS_QUEUE, isTerminal } from '../contracts/job.js';
import type {
  EarlyStop,
  Job,
  JobStatus,
  TrialSummary,
  TrialsEvaluateResult,
  TrialsProposeResult,
} from '../contracts/job.js';
import { runArtifactsUri } from '../domain/mlflow-artifacts.js';
import { generateJobName } from '../domain/job-command.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Observation } from '../ml/bayesian.js';
import { decideTerminations, policyProblem } from '../ml/early-termination.js';
import type { TrialMetricHistory } from '../ml/early-termination.js';
import { bayesianSampler, gridSampler, randomSampler, sobolSampler } from '../ml/search-space.js';
import type { AdaptiveSampler, Point, Sampler } from '../ml/search-space.js';
import type { Clock } from '../ports/clock.js';
import type { MessageQueue } from '../ports/message-queue.js';
import type { MetadataStore, WithMeta } from '../ports/metadata-store.js';
import { changeDocument, lazyContainer } from './change-document.js';
import type { JobDocument, JobService } from './job-service.js';
import type { TrackingService } from './tracking-service.js';
import { QUEUE_SETTINGS_NOTICE } from '../contracts/azureml/common.js';

/**
 * Sweep jobs, on the trial engine: the parent job holds the search space, the objective and the
 * limits; each trial is a command job (`<sweep>_<n>`) of the trial template with the sampled
 * parameters as inputs, run by the `commandJob` orchestration like any other job; the parent's
 * `trialSweep` orchestration asks for batches of at most max_concurrent_trials, waits for them,
 * and ends with the best trial by the primary metric its runs logged to MLflow.
 */

export interface SweepServiceDeps {
  store: MetadataStore;
  clock: Clock;
  jobs: JobService;
  tracking: TrackingService;
  queue: MessageQueue;
  publicUrl: string;
}

interface SweepState {
  spec: SweepJobSpec;
  /** Trial names created so far, in order (trial n has point n). */
  created: string[];
  /** Point n of trial n; a round's points are stored before its trials are created. */
  points: Point[];
  /** Bayesian sampling: point n's coordinates in the unit cube (what the model is fitted on). */
  units?: number[][];
  /** The trials the early termination policy stopped (recorded before they are asked to cancel). */
  stopped?: EarlyStop[];
  maxTotal: number;
  maxConcurrent: number;
  /**
   * What each trial that has ended ended with, by name: its status and the value it counts with.
   * Kept so that each round reads only the trials still running.
   */
  ended?: Record<string, TrialEnd>;
}

interface TrialEnd {
  status: JobStatus;
  value?: number;
}

type SweepDocument = JobDocument & { sweep: SweepState };

export type SweepService = ReturnType<typeof createSweepService>;

const DEFAULT_CONCURRENCY = 4;
/** How often the trial engine has a sweep's early termination policy evaluated while trials run. */
export const POLICY_EVALUATION_SECONDS = 3;

/** The seed of a sweep without one: from its name, so a sweep's points do not change on a retry. */
const seedOf = (name: string): number => createHash('sha256').update(name).digest().readUInt32BE(0);

function samplerOf(spec: SweepJobSpec, name: string): Sampler | AdaptiveSampler {
  const sampling = spec.sampling_algorithm;
  const type = typeof sampling === 'string' ? sampling : sampling.type;
  if (type === 'grid') return gridSampler(spec.search_space);
  if (type === 'bayesian') return bayesianSampler(spec.search_space, seedOf(name));
  if (type === 'random') {
    const options = typeof sampling === 'string' ? {} : (sampling as { seed?: number; rule?: string });
    const seed = options.seed ?? seedOf(name);
    return options.rule === 'sobol' ? sobolSampler(spec.search_space, seed) : randomSampler(spec.search_space, seed);
  }
  throw new ValidationError(
    `sampling_algorithm: ${String(type)} is not a sampling algorithm; use grid, random or bayesian.`,
    {
      target: 'sampling_algorithm',
    },
  );
}

const isAdaptive = (s: Sampler | AdaptiveSampler): s is AdaptiveSampler => 'propose' in s;

export function createSweepService(deps: SweepServiceDeps) {
  const { clock } = deps;
  const container = lazyContainer(deps.store, JOBS_CONTAINER);

  const read = async (ws: string, name: string): Promise<WithMeta<SweepDocument>> => {
    const doc = await (await container()).read<SweepDocument>(ws, name);
    if (doc === undefined || doc.type !== 'sweep') {
      throw new NotFoundError(`Sweep job '${name}' does not exist in workspace '${ws}'.`, { target: 'name' });
    }
    return doc;
  };

  const update = (ws: string, name: string, change: (d: SweepDocument) => SweepDocument | undefined) =>
    changeDocument(container, () => read(ws, name), change);

  /** The trial command job for point `index`. */
  const trialSpec = (parent: SweepDocument, index: number, point: Point): Record<string, unknown> => {
    const spec = parent.sweep.spec;
    const outputs = Object.fromEntries(
      Object.entries(spec.outputs ?? {}).map(([k, o]) => {
        // Trials do not register their outputs as assets: the sweep's best trial is the one to register.
        const { name: _n, version: _v, ...rest } = o;
        return [k, rest];
      }),
    );
    return {
      ...spec.trial,
      // `${{search_space.x}}` is the sampled value, given to the trial as input x.
      command: spec.trial.command.replace(/\$\{\{\s*search_space\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, '$${{inputs.$1}}'),
      type: 'command',
      name: `${parent.name}_${index}`,
      display_name: `${parent.display_name ?? parent.name} trial ${index}`,
      experiment_name: parent.experiment_name,
      ...(spec.compute === undefined ? {} : { compute: spec.compute }),
      inputs: { ...(spec.inputs ?? {}), ...point },
      outputs,
      tags: { ...parent.tags, 'azureml.sweep': parent.name },
      ...(spec.limits?.trial_timeout === undefined ? {} : { limits: { timeout: spec.limits.trial_timeout } }),
    };
  };

  /**
   * The trials' statuses and values of the primary metric (Completed trials and those the policy
   * stopped), in trial order. A trial that ended is read once: its end is taken from the sweep's
   * `ended`, or read and added to `fresh` for the caller to keep.
   */
  const results = async (ws: string, doc: SweepDocument, fresh: Record<string, TrialEnd> = {}) => {
    const metric = doc.sweep.spec.objective.primary_metric;
    const out: { name: string; index: number; status: JobStatus | undefined; value: number | undefined }[] = [];
    for (const [index, trial] of doc.sweep.created.entries()) {
      const kept = doc.sweep.ended?.[trial];
      if (kept !== undefined) {
        out.push({ name: trial, index, status: kept.status, value: kept.value });
        continue;
      }
      const job = await deps.jobs.get(ws, trial).catch(() => undefined);
      let value: number | undefined;
      // A trial the policy stopped counts with the last value it logged.
      const stopped = job?.status === 'Canceled' && (doc.sweep.stopped ?? []).some((s) => s.name === trial);
      if (job?.status === 'Completed' || stopped) {
        const run = await deps.tracking.getRun(ws, trial).catch(() => undefined);
        const v = run?.run.data.metrics?.find((m) => m.key === metric)?.value;
        if (typeof v === 'number' && Number.isFinite(v)) value = v;
      }
      if (job !== undefined && isTerminal(job.status)) {
        fresh[trial] = { status: job.status, ...(value === undefined ? {} : { value }) };
      }
      out.push({ name: trial, index, status: job?.status, value });
    }
    return out;
  };

  const summary = async (
    ws: string,
    doc: SweepDocument,
    fresh: Record<string, TrialEnd> = {},
  ): Promise<TrialSummary> => {
    const metric = doc.sweep.spec.objective.primary_metric;
    const goal = doc.sweep.spec.objective.goal;
    const board: TrialSummary['leaderboard'] = [];
    const ended = new Map<string, JobStatus | undefined>();
    for (const r of await results(ws, doc, fresh)) {
      ended.set(r.name, r.status);
      if (r.value !== undefined)
        board.push({ name: r.name, value: r.value, parameters: doc.sweep.points[r.index] ?? {} });
    }
    // A trial the policy chose that finished before its cancel arrived was not stopped after all.
    const stopped = doc.sweep.stopped?.filter((s) => !['Completed', 'Failed'].includes(ended.get(s.name) ?? ''));
    board.sort((a, b) => (goal === 'maximize' ? b.value - a.value : a.value - b.value));
    return {
      primary_metric: metric,
      goal,
      created: doc.sweep.created.length,
      max_total_trials: doc.sweep.maxTotal,
      leaderboard: board,
      ...(board[0] === undefined ? {} : { best: board[0].name }),
      ...(stopped === undefined ? {} : { stopped }),
    };
  };

  /** Every value the trial's run logged of `metric`, in logging order. */
  const metricValues = async (ws: string, trial: string, metric: string): Promise<number[]> => {
    const values: number[] = [];
    let token: string | undefined;
    do {
      const page = await deps.tracking.metricHistory(ws, {
        run_id: trial,
        metric_key: metric,
        ...(token === undefined ? {} : { page_token: token }),
      });
      values.push(...page.metrics.map((m) => Number(m.value)));
      token = page.next_page_token;
    } while (token !== undefined);
    return values;
  };

  /**
   * The points of trials `start` .. `end - 1`: an index sampler's, or the Bayesian model's given
   * the results so far (objective turned into a value to minimise; running trials as pending).
   */
  const choosePoints = async (
    ws: string,
    doc: SweepDocument,
    sampler: Sampler | AdaptiveSampler,
    start: number,
    end: number,
  ): Promise<{ points: Point[]; units?: number[][] }> => {
    if (!isAdaptive(sampler)) {
      return { points: Array.from({ length: end - start }, (_, k) => sampler.point(start + k)) };
    }
    const units = doc.sweep.units ?? [];
    const sign = doc.sweep.spec.objective.goal === 'maximize' ? -1 : 1;
    const observations: Observation[] = [];
    const pending: number[][] = [];
    if (start >= sampler.initial) {
      for (const r of await results(ws, doc)) {
        const unit = units[r.index];
        if (unit === undefined) continue;
        if (r.value !== undefined) observations.push({ unit, value: sign * r.value });
        else if (r.status === undefined || !isTerminal(r.status)) pending.push(unit);
      }
    }
    const chosen = sampler.propose(start, end - start, observations, pending);
    return { points: chosen.map((c) => c.point), units: chosen.map((c) => c.unit) };
  };

  return {
    /** Validates a sweep spec (the trial template is checked as a command job would be) and stores the parent, Queued. */
    async create(ws: string, body: unknown, context: { createdBy?: string } = {}): Promise<Job> {
      const spec = parseSpec('job', body) as SweepJobSpec & { type: string };
      if (spec.type !== 'sweep') throw new ValidationError('Not a sweep job.', { target: 'type' });
      const name = spec.name ?? generateJobName();
      if ((await (await container()).read(ws, name)) !== undefined) {
        throw new ConflictError(`A job named '${name}' already exists in workspace '${ws}'; job names are unique.`, {
          target: 'name',
        });
      }
      const samplingType =
        typeof spec.sampling_algorithm === 'string' ? spec.sampling_algorithm : spec.sampling_algorithm.type;
      if (samplingType === 'bayesian' && spec.early_termination !== undefined) {
        throw new ValidationError(
          `early_termination: bayesian sampling does not take an early termination policy (as in Azure ML); remove early_termination, or use random or grid sampling with it.`,
          { target: 'early_termination' },
        );
      }
      const problem = spec.early_termination === undefined ? undefined : policyProblem(spec.early_termination);
      if (problem !== undefined) {
        throw new ValidationError(`early_termination.${problem.key}: ${problem.message}`, {
          target: `early_termination.${problem.key}`,
        });
      }
      const sampler = samplerOf(spec, name);
      const limits = spec.limits ?? {};
      if (sampler.size === Infinity && limits.max_total_trials === undefined) {
        throw new ValidationError(
          `limits.max_total_trials is required with ${samplingType} sampling (it has no end of its own).`,
          {
            target: 'limits.max_total_trials',
          },
        );
      }
      const maxTotal = Math.min(limits.max_total_trials ?? sampler.size, sampler.size);
      const maxConcurrent = Math.max(1, Math.min(limits.max_concurrent_trials ?? DEFAULT_CONCURRENCY, maxTotal));
      const now = clock.now();
      const parent = {
        name,
        display_name: spec.display_name,
        experiment_name: spec.experiment_name ?? 'Default',
        tags: Object.fromEntries(Object.entries(spec.tags ?? {}).map(([k, v]) => [k, String(v)])),
        sweep: { spec, created: [], points: [], maxTotal, maxConcurrent },
      } as unknown as SweepDocument;
      // The first trial, checked as a command job: a bad template is a 400 now, not a failed sweep later.
      await deps.jobs.validate(ws, trialSpec(parent, 0, sampler.point(0)));
      const { experimentId } = await deps.tracking.startJobRun(ws, {
        runId: name,
        experimentName: parent.experiment_name,
        runName: spec.display_name ?? name,
        tags: [
          ...Object.entries(parent.tags).map(([key, value]) => ({ key, value })),
          { key: 'mlflow.source.type', value: 'JOB' },
          { key: 'azureml.runsource', value: 'hyperdrive' },
        ],
        startTime: now,
      });
      const trackingUri = `${deps.publicUrl}/api/workspaces/${ws}/mlflow`;
      const doc = {
        id: name,
        pk: ws,
        kind: 'job',
        schemaVersion: 1,
        name,
        workspace: ws,
        type: 'sweep',
        ...(spec.display_name === undefined ? {} : { display_name: spec.display_name }),
        ...(spec.description === undefined ? {} : { description: spec.description }),
        experiment_name: parent.experiment_name,
        tags: parent.tags,
        status: 'Queued',
        compute: spec.compute?.replace(/^azureml:/, '') ?? 'local',
        spec: { ...spec, name } as Record<string, unknown>,
        statusHistory: [{ status: 'Queued', at: now }],
        createdAt: now,
        notices: spec.queue_settings === undefined ? [] : [QUEUE_SETTINGS_NOTICE],
        outputs: {},
        artifacts_uri: runArtifactsUri(experimentId, name),
        mlflow: { run_id: name, experiment_id: experimentId, tracking_uri: trackingUri },
        attempt: 1,
        archived: false,
        sweep: parent.sweep,
        trials: {
          primary_metric: spec.objective.primary_metric,
          goal: spec.objective.goal,
          created: 0,
          max_total_trials: maxTotal,
          leaderboard: [],
        },
        ...(context.createdBy === undefined ? {} : { createdBy: context.createdBy }),
      } as unknown as SweepDocument;
      const stored = await (await container()).create(doc);
      return deps.jobs.get(ws, stored.name);
    },

    /** The next batch of trials (created as command jobs), or done: limits reached, or canceled. */
    async propose(ws: string, name: string, round: number, timedOut = false): Promise<TrialsProposeResult> {
      const doc = await read(ws, name);
      const timeout = doc.sweep.spec.limits?.timeout;
      const timeoutSeconds = timeout === undefined ? {} : { timeoutSeconds: timeout };
      const evaluate =
        doc.sweep.spec.early_termination === undefined ? {} : { evaluateSeconds: POLICY_EVALUATION_SECONDS };
      if (isTerminal(doc.status) || doc.cancelRequested === true || timedOut) {
        return { trials: [], done: true, ...timeoutSeconds };
      }
      const sampler = samplerOf(doc.sweep.spec, name);
      // Trials of this round already created (a retried activity) are returned again.
      const start = round * doc.sweep.maxConcurrent;
      const end = Math.min(start + doc.sweep.maxConcurrent, doc.sweep.maxTotal);
      if (start >= end) return { trials: [], done: true, ...timeoutSeconds };
      // The round's points are chosen once and stored before any trial is created: a retried
      // round (an activity retry) finds them and creates the same trials.
      if (doc.sweep.points.length < end) {
        const chosen = await choosePoints(ws, doc, sampler, start, end);
        await update(ws, name, (d) => {
          if (d.sweep.points.length >= end) return undefined;
          if (d.sweep.points.length !== start) {
            throw new ConflictError(
              `Sweep ${name} has ${d.sweep.points.length} points; round ${round} starts at ${start}.`,
            );
          }
          d.sweep.points = [...d.sweep.points, ...chosen.points];
          if (chosen.units !== undefined) d.sweep.units = [...(d.sweep.units ?? []), ...chosen.units];
          return d;
        });
      }
      const planned = (await read(ws, name)).sweep.points;
      const trials: string[] = [];
      for (let i = start; i < end; i++) {
        const trial = `${name}_${i}`;
        const point = planned[i] as Point;
        const exists = await deps.jobs.get(ws, trial).then(
          () => true,
          (err: unknown) => {
            if (err instanceof NotFoundError) return false;
            throw err;
          },
        );
        if (!exists) await deps.jobs.create(ws, trialSpec(doc, i, point), { parent: name });
        trials.push(trial);
        await update(ws, name, (d) => {
          if (d.sweep.created.includes(trial)) return undefined;
          d.sweep.created = [...d.sweep.created, trial];
          d.orchestratedAt ??= clock.now();
          if (d.status === 'Queued') {
            d.status = 'Running';
            d.startedAt = clock.now();
            d.statusHistory = [...d.statusHistory, { status: 'Running', at: d.startedAt }];
          }
          return d;
        });
      }
      const refreshed = await read(ws, name);
      const fresh: Record<string, TrialEnd> = {};
      const board = await summary(ws, refreshed, fresh);
      await update(ws, name, (d) => {
        d.trials = board;
        d.sweep.ended = { ...d.sweep.ended, ...fresh };
        return d;
      });
      if (round === 0) await deps.tracking.setJobRunStatus(ws, name, 'RUNNING');
      return { trials, done: false, ...timeoutSeconds, ...evaluate };
    },

    /**
     * Applies the sweep's early termination policy to its running `trials` (shared/ml/early-termination.ts),
     * comparing them with every trial so far: the ones it stops are recorded on the sweep, then
     * marked canceled with a notice that says why and asked to cancel. A retried evaluation asks
     * again for those recorded but not yet ended.
     */
    async evaluate(ws: string, name: string, trials: readonly string[]): Promise<TrialsEvaluateResult> {
      const doc = await read(ws, name);
      const policy = doc.sweep.spec.early_termination;
      if (policy === undefined || isTerminal(doc.status) || doc.cancelRequested === true) return { stopped: [] };
      const metric = doc.sweep.spec.objective.primary_metric;
      const histories: TrialMetricHistory[] = [];
      for (const trial of doc.sweep.created) {
        const job = await deps.jobs.get(ws, trial).catch(() => undefined);
        if (job === undefined) continue;
        const alreadyStopped = (doc.sweep.stopped ?? []).some((s) => s.name === trial);
        const running = trials.includes(trial) && !isTerminal(job.status) && !alreadyStopped;
        histories.push({ name: trial, values: await metricValues(ws, trial, metric), running });
      }
      const decisions = decideTerminations(policy, doc.sweep.spec.objective.goal, metric, histories);
      if (decisions.length > 0) {
        await update(ws, name, (d) => {
          const known = new Set((d.sweep.stopped ?? []).map((s) => s.name));
          const fresh = decisions.filter((x) => !known.has(x.name));
          if (fresh.length === 0) return undefined;
          d.sweep.stopped = [
            ...(d.sweep.stopped ?? []),
            ...fresh.map((x) => ({ name: x.name, policy: policy.type, interval: x.interval, reason: x.reason })),
          ];
          // Shown by job show at once, not only at the next round.
          d.trials = {
            ...(d.trials as TrialSummary),
            stopped: [...(d.trials?.stopped ?? []), ...d.sweep.stopped.slice(-fresh.length)],
          };
          return d;
        });
      }
      const recorded = (await read(ws, name)).sweep.stopped ?? [];
      const stopped: string[] = [];
      for (const stop of recorded.filter((s) => trials.includes(s.name))) {
        const notice = `stopped by the ${stop.policy} policy at interval ${stop.interval}: ${stop.reason}.`;
        const job = await deps.jobs.requestCancel(ws, stop.name, notice);
        if (isTerminal(job.status)) continue;
        await deps.queue.send(JOB_EVENTS_QUEUE, [
          {
            body: { kind: 'cancel', workspace: ws, job: stop.name, reason: notice },
            messageId: `cancel-${ws}-${stop.name}`,
          },
        ]);
        stopped.push(stop.name);
      }
      return { stopped };
    },

    /** Asks the orchestrations of these trials to cancel them (through the job-events queue). */
    async cancelTrials(ws: string, trials: readonly string[], reason: string): Promise<void> {
      if (trials.length === 0) return;
      await deps.queue.send(
        JOB_EVENTS_QUEUE,
        trials.map((job) => ({
          body: { kind: 'cancel', workspace: ws, job, reason },
          messageId: `cancel-${ws}-${job}`,
        })),
      );
    },

    /** Ends the sweep: the leaderboard, the best trial, the final status and the parent run's summary. */
    async finalize(ws: string, name: string, outcome: 'completed' | 'canceled' | 'timeout'): Promise<JobStatus> {
      const doc = await read(ws, name);
      if (isTerminal(doc.status)) return doc.status;
      const board = await summary(ws, doc);
      const best = board.leaderboard[0];
      const now = clock.now();
      // A cancel the proposer saw before the orchestration got its event ends the sweep 'completed'
      // (no more trials): it is still the user's cancel.
      const canceled = outcome === 'canceled' || doc.cancelRequested === true;
      const status: JobStatus = canceled ? 'Canceled' : best !== undefined ? 'Completed' : 'Failed';
      await update(ws, name, (d) => {
        if (isTerminal(d.status)) return undefined;
        d.trials = board;
        d.status = status;
        d.endedAt = now;
        d.statusHistory = [...d.statusHistory, { status, at: now }];
        if (outcome === 'timeout')
          d.notices = [...d.notices, 'limits.timeout was reached: the running trials were canceled.'];
        if (status === 'Failed') {
          d.error = {
            code: outcome === 'timeout' ? 'JobTimeout' : 'NoTrialSucceeded',
            message:
              outcome === 'timeout'
                ? `limits.timeout (${d.sweep.spec.limits?.timeout ?? '?'} s) was reached before any trial completed with ${board.primary_metric}.`
                : `No trial completed with a value of the primary metric ${board.primary_metric}; see the trials' errors (tessera job list, tessera job show).`,
          };
        }
        return d;
      });
      if (best !== undefined) {
        // The sweep's named outputs are registered from its best trial.
        const bestJob = await deps.jobs.get(ws, best.name);
        const registered: Record<string, { type: string; uri: string; asset?: string }> = {};
        for (const [key, output] of Object.entries(doc.sweep.spec.outputs ?? {})) {
          const produced = bestJob.outputs[key];
          if (produced === undefined) continue;
          const asset =
            output.name === undefined
              ? undefined
              : await deps.jobs.registerOutput(
                  ws,
                  name,
                  {
                    type: produced.type,
                    uri: produced.uri,
                    name: output.name,
                    ...(output.version === undefined ? {} : { version: String(output.version) }),
                    ...(output.description === undefined ? {} : { description: output.description }),
                  },
                  `Output '${key}' of ${best.name}, the best trial of sweep ${name}`,
                  { 'azureml.job': best.name, 'azureml.sweep': name, 'azureml.output': key },
                );
          registered[key] = { type: produced.type, uri: produced.uri, ...(asset === undefined ? {} : { asset }) };
        }
        await update(ws, name, (d) => {
          d.outputs = registered;
          return d;
        });
        await deps.tracking.logBatch(ws, {
          run_id: name,
          metrics: [{ key: `best_${board.primary_metric}`, value: best.value, timestamp: now, step: 0 }],
          tags: [{ key: 'best_child_run_id', value: best.name }],
          params: [],
        });
      }
      await deps.tracking.setJobRunStatus(
        ws,
        name,
        status === 'Completed' ? 'FINISHED' : status === 'Canceled' ? 'KILLED' : 'FAILED',
        now,
      );
      return status;
    },
  };
}

import { z } from 'zod';
import { parseSpec } from '../contracts/azureml/index.js';
import { JOBS_CONTAINER, isTerminal } from '../contracts/job.js';
import type {
  AutomlSummary,
  FeatureImportance,
  Job,
  JobStatus,
  TrialSummary,
  TrialsProposeResult,
} from '../contracts/job.js';
import { generateJobName } from '../domain/job-command.js';
import { runArtifactsUri } from '../domain/mlflow-artifacts.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { proposeForecastTrials } from '../ml/automl/forecast-proposer.js';
import { proposeTrials } from '../ml/automl/proposer.js';
import { CV_STANDARD_ERROR, chooseBest } from '../ml/automl/selection.js';
import { resolveAutomlSettings } from '../ml/automl/settings.js';
import type { TabularAutomlSpec as AutomlJobSpec } from '../ml/automl/settings.js';
import type { AutomlSettings, TrialConfig, TrialRecord } from '../ml/automl/types.js';
import { SETUP_NOTICES_FILE } from '../ml/automl/types.js';
import { METRIC_GOALS, isBetter } from '../ml/metrics.js';
import type { Clock } from '../ports/clock.js';
import type { MetadataStore, WithMeta } from '../ports/metadata-store.js';
import { changeDocument, lazyContainer } from './change-document.js';
import type { JobDocument, JobService } from './job-service.js';
import type { SweepService } from './sweep-service.js';
import type { TrackingService } from './tracking-service.js';

/**
 * AutoML jobs (`type: automl`, tabular tasks), on the trial engine shared with sweep jobs. The
 * parent job holds the resolved settings and proposes its child jobs batch by batch, each a command
 * job running the built-in `tessera-automl` program (trainer/automl/main.ts):
 *
 *   `<job>_setup`    reads and checks the data once, decides the featurization and the folds;
 *   `<job>_<n>`      one trial: an algorithm and its hyperparameters, scored by CV, refit, exported to ONNX;
 *   `<job>_vote`, `<job>_stack`   ensembles of the best trials;
 *   `<job>_explain`  permutation importance of the best model on holdout rows.
 *
 * The search stops at max_trials, at timeout_minutes, at exit_score, when the score has not
 * improved for EARLY_TERMINATION_TRIALS trials, or when the proposer has nothing new. The best
 * model (a trial or an ensemble) is registered as a model asset.
 */

export interface AutomlServiceDeps {
  store: MetadataStore;
  clock: Clock;
  jobs: JobService;
  sweeps: SweepService;
  tracking: TrackingService;
  publicUrl: string;
}

type ChildKind = 'setup' | 'trial' | 'vote' | 'stack' | 'explain';

interface AutomlChild {
  name: string;
  kind: ChildKind;
  config?: TrialConfig;
}

/** What a scored child (trial or ensemble) ended with: kept once it ended, as it no longer changes. */
interface ChildOutcome {
  status: JobStatus;
  /** The primary metric, when the child completed with a finite one. */
  score?: number;
  /** fit_seconds, when logged. */
  seconds?: number;
  /** The cross-validation standard error of the score, when logged. */
  standardError?: number;
  /** The first line of its error, when it failed. */
  error?: string;
}

interface AutomlState {
  settings: AutomlSettings;
  children: AutomlChild[];
  /** Child names per round of the trial engine (a retried proposal returns the same round). */
  rounds: string[][];
  /**
   * The outcomes of the children that have ended, by name, so that each round reads only the
   * children still running (else a job of 1,000 trials reads every child in each of its rounds).
   */
  ended?: Record<string, ChildOutcome>;
  /**
   * How many rounds the job's log has listed the children of. Each round is listed once: by the
   * next proposal, or by the end when no proposal followed it (a timeout, a cancel).
   */
  reported?: number;
}

type AutomlDocument = JobDocument & { automlState: AutomlState; automl: AutomlSummary };

export type AutomlService = ReturnType<typeof createAutomlService>;

/** The search stops when the best score has not improved for this many trials (enable_early_termination). */
export const EARLY_TERMINATION_TRIALS = 20;
/** Trials the early termination waits for before it counts (the defaults of every algorithm come first). */
export const EARLY_TERMINATION_WARMUP = 25;
/** The share of timeout_minutes the search may use; the ensembles and the explanation have the rest. */
export const SEARCH_SHARE = 0.85;
/** Ensembles are built from at most this many of the best trials. */
const ENSEMBLE_CANDIDATES = 5;
/** The environment child jobs name: the trainer's own image (the host's runtime locally). */
const AUTOML_ENVIRONMENT = { image: 'tessera-trainer' };

const ALGORITHM_PARAM = 'algorithm';

function modelInput(job: string): Record<string, string> {
  return { type: 'custom_model', path: `azureml://jobs/${job}/outputs/model` };
}

export function createAutomlService(deps: AutomlServiceDeps) {
  const { clock } = deps;
  const container = lazyContainer(deps.store, JOBS_CONTAINER);

  const read = async (ws: string, name: string): Promise<WithMeta<AutomlDocument>> => {
    const doc = await (await container()).read<AutomlDocument>(ws, name);
    if (doc === undefined || doc.type !== 'automl') {
      throw new NotFoundError(`AutoML job '${name}' does not exist in workspace '${ws}'.`, { target: 'name' });
    }
    return doc;
  };

  const update = (ws: string, name: string, change: (d: AutomlDocument) => AutomlDocument | undefined) =>
    changeDocument(container, () => read(ws, name), change);

  const say = (ws: string, name: string, line: string): Promise<void> =>
    deps.jobs.appendLog(ws, name, `${new Date(clock.now()).toISOString()} ${line}\n`).catch(() => undefined);

  /** What every child job shares: experiment, compute, tags, and the built-in program's environment. */
  const childBase = (parent: AutomlDocument, spec: AutomlJobSpec, name: string, display: string) => ({
    type: 'command',
    name,
    display_name: `${parent.display_name ?? parent.name} ${display}`,
    experiment_name: parent.experiment_name,
    environment: AUTOML_ENVIRONMENT,
    ...(spec.compute === undefined ? {} : { compute: spec.compute }),
    tags: { ...parent.tags, 'azureml.automl': parent.name },
  });

  const preparedInput = (parent: string) => ({
    type: 'uri_folder',
    path: `azureml://jobs/${parent}_setup/outputs/prepared`,
  });

  const setupSpec = (parent: AutomlDocument, spec: AutomlJobSpec, settings: AutomlSettings) => {
    const data: Record<string, unknown> = { training_data: spec.training_data };
    if (spec.validation_data !== undefined) data.validation_data = spec.validation_data;
    if (spec.test_data !== undefined) data.test_data = spec.test_data;
    const flags = Object.keys(data)
      .map((k) => `--${k.replace('_', '-')} \${{inputs.${k}}}`)
      .join(' ');
    return {
      ...childBase(parent, spec, `${parent.name}_setup`, 'setup'),
      command: `tessera-automl setup ${flags} --output \${{outputs.prepared}}`,
      inputs: data,
      outputs: { prepared: { type: 'uri_folder' } },
      environment_variables: { AUTOML_SETTINGS: JSON.stringify(settings) },
    };
  };

  const trialSpec = (parent: AutomlDocument, spec: AutomlJobSpec, index: number, config: TrialConfig) => {
    const settings = parent.automlState.settings;
    return {
      ...childBase(parent, spec, `${parent.name}_${index}`, `trial ${index} (${config.algorithm})`),
      command: 'tessera-automl trial --prepared ${{inputs.prepared}} --output ${{outputs.model}}',
      inputs: { prepared: preparedInput(parent.name) },
      outputs: { model: { type: 'custom_model' } },
      environment_variables: { AUTOML_TRIAL_CONFIG: JSON.stringify(config) },
      ...(settings.trialTimeoutSeconds === undefined ? {} : { limits: { timeout: settings.trialTimeoutSeconds } }),
    };
  };

  const ensembleSpec = (parent: AutomlDocument, spec: AutomlJobSpec, kind: 'vote' | 'stack', members: string[]) => {
    const inputs: Record<string, unknown> = { prepared: preparedInput(parent.name) };
    members.forEach((m, i) => (inputs[`member_${i}`] = modelInput(m)));
    const list = members.map((_, i) => `\${{inputs.member_${i}}}`).join(' ');
    return {
      ...childBase(parent, spec, `${parent.name}_${kind}`, kind === 'vote' ? 'VotingEnsemble' : 'StackEnsemble'),
      command: `tessera-automl ensemble --kind ${kind} --prepared \${{inputs.prepared}} --output \${{outputs.model}} --members ${list}`,
      inputs,
      outputs: { model: { type: 'custom_model' } },
    };
  };

  const explainSpec = (parent: AutomlDocument, spec: AutomlJobSpec, best: string) => ({
    ...childBase(parent, spec, `${parent.name}_explain`, 'explanation'),
    command:
      'tessera-automl explain --prepared ${{inputs.prepared}} --model ${{inputs.model}} --output ${{outputs.explanation}}',
    inputs: { prepared: preparedInput(parent.name), model: modelInput(best) },
    outputs: { explanation: { type: 'uri_folder' } },
  });

  const jobOrUndefined = (ws: string, name: string): Promise<Job | undefined> =>
    deps.jobs.get(ws, name).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });

  /** The notices the setup step wrote; none from a setup that wrote no file or a malformed one. */
  const readSetupNotices = async (ws: string, setup: string): Promise<string[]> => {
    const bytes = await deps.jobs.readOutputFile(ws, setup, 'prepared', SETUP_NOTICES_FILE);
    if (bytes === undefined) return [];
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return [];
    }
    const parsed = z.array(z.string()).safeParse(json);
    return parsed.success ? parsed.data : [];
  };

  /** A scored child's outcome, read from its job and run; undefined while it has no job. */
  const readOutcome = async (ws: string, name: string, metric: string): Promise<ChildOutcome | undefined> => {
    const job = await jobOrUndefined(ws, name);
    if (job === undefined) return undefined;
    const outcome: ChildOutcome = { status: job.status };
    if (job.status === 'Completed') {
      const run = await deps.tracking.getRun(ws, name).catch(() => undefined);
      const metrics = run?.run.data.metrics ?? [];
      const value = metrics.find((m) => m.key === metric)?.value;
      if (typeof value === 'number' && Number.isFinite(value)) outcome.score = value;
      const took = metrics.find((m) => m.key === 'fit_seconds')?.value;
      if (typeof took === 'number') outcome.seconds = took;
      const se = metrics.find((m) => m.key === CV_STANDARD_ERROR)?.value;
      if (typeof se === 'number' && Number.isFinite(se)) outcome.standardError = se;
    }
    const error = job.error?.message.split('\n')[0];
    if (error !== undefined) outcome.error = error;
    return outcome;
  };

  /**
   * Scores of the finished trials and ensembles, best first, each trial's history entry, the best
   * model, the setup's metrics, each scored child's outcome, and the outcomes of the children that
   * ended since the job last kept them (`ended`, for the caller to keep).
   */
  const results = async (ws: string, doc: AutomlDocument) => {
    const { settings } = doc.automlState;
    const metric = settings.primaryMetric;
    const board: TrialSummary['leaderboard'] = [];
    const history: TrialRecord[] = [];
    const errors = new Map<string, number>();
    const outcomes = new Map<string, ChildOutcome | undefined>();
    const ended: Record<string, ChildOutcome> = {};
    for (const child of doc.automlState.children) {
      if (child.kind !== 'trial' && child.kind !== 'vote' && child.kind !== 'stack') continue;
      const kept = doc.automlState.ended?.[child.name];
      const outcome = kept ?? (await readOutcome(ws, child.name, metric));
      if (kept === undefined && outcome !== undefined && isTerminal(outcome.status)) ended[child.name] = outcome;
      outcomes.set(child.name, outcome);
      const score = outcome?.score;
      const seconds = outcome?.seconds;
      if (outcome?.standardError !== undefined) errors.set(child.name, outcome.standardError);
      const algorithm =
        child.kind === 'vote' ? 'VotingEnsemble' : child.kind === 'stack' ? 'StackEnsemble' : child.config?.algorithm;
      if (child.kind === 'trial' && child.config !== undefined) {
        history.push({
          config: child.config,
          ...(score === undefined ? {} : { score }),
          ...(seconds === undefined ? {} : { seconds }),
        });
      }
      if (score !== undefined) {
        board.push({
          name: child.name,
          value: score,
          parameters: { [ALGORITHM_PARAM]: algorithm ?? child.kind, ...(child.config?.params ?? {}) },
          ...(algorithm === undefined ? {} : { algorithm }),
        });
      }
    }
    board.sort((a, b) => (METRIC_GOALS[metric] === 'maximize' ? b.value - a.value : a.value - b.value));
    // What the setup measured (rows, features, classes, folds): the proposer's inputs, and how the
    // trials were scored for the one-standard-error rule on small data (selection.ts).
    const setupRun = await deps.tracking.getRun(ws, `${doc.name}_setup`).catch(() => undefined);
    const setupMetric = (key: string): number => {
      const v = setupRun?.run.data.metrics?.find((m) => m.key === key)?.value;
      return typeof v === 'number' ? v : 0;
    };
    const choice = chooseBest(
      board.map((e) => ({ ...e, ...(errors.has(e.name) ? { standardError: errors.get(e.name) as number } : {}) })),
      metric,
      { rows: setupMetric('rows'), folds: setupMetric('folds') },
    );
    const best = board.find((e) => e.name === choice?.name);
    const summary: TrialSummary = {
      primary_metric: metric,
      goal: METRIC_GOALS[metric],
      created: doc.automlState.children.filter((c) => c.kind === 'trial').length,
      max_total_trials: settings.maxTrials,
      leaderboard: board,
      ...(best === undefined ? {} : { best: best.name }),
    };
    return {
      summary,
      history,
      setupMetric,
      outcomes,
      ended,
      ...(choice?.why === undefined ? {} : { why: choice.why }),
    };
  };

  /** Why the search should stop now, or undefined to go on. */
  const stopReason = (doc: AutomlDocument, history: TrialRecord[], timedOut: boolean): string | undefined => {
    const { settings } = doc.automlState;
    if (timedOut) {
      return `the search's share (${SEARCH_SHARE * 100}%) of limits.timeout_minutes (${(settings.timeoutSeconds ?? 0) / 60}) was used`;
    }
    if (history.length >= settings.maxTrials) return `limits.max_trials (${settings.maxTrials}) was reached`;
    let best: number | undefined;
    let bestAt = -1;
    history.forEach((h, i) => {
      if (h.score !== undefined && (best === undefined || isBetter(settings.primaryMetric, h.score, best))) {
        best = h.score;
        bestAt = i;
      }
    });
    if (best !== undefined && settings.exitScore !== undefined) {
      const reached =
        METRIC_GOALS[settings.primaryMetric] === 'maximize' ? best >= settings.exitScore : best <= settings.exitScore;
      if (reached) return `limits.exit_score (${settings.exitScore}) was reached: ${settings.primaryMetric} ${best}`;
    }
    // Counted from the end of the warm-up (every algorithm's default), so the slower algorithms proposed late still get their turn.
    const since = Math.max(bestAt, EARLY_TERMINATION_WARMUP - 1);
    if (settings.earlyTermination && bestAt >= 0 && history.length - 1 - since >= EARLY_TERMINATION_TRIALS) {
      return `early termination: ${settings.primaryMetric} has not improved for ${EARLY_TERMINATION_TRIALS} trials`;
    }
    return undefined;
  };

  /** Creates the child jobs of one round (those that exist already are kept: a retried activity). */
  const startRound = async (
    ws: string,
    doc: AutomlDocument,
    round: number,
    children: { child: AutomlChild; spec: Record<string, unknown> }[],
    phase: AutomlSummary['phase'],
    extra: Partial<AutomlSummary> = {},
  ): Promise<string[]> => {
    for (const { child, spec } of children) {
      if ((await jobOrUndefined(ws, child.name)) === undefined) {
        await deps.jobs.create(ws, spec, { parent: doc.name });
      }
    }
    const names = children.map((c) => c.child.name);
    await update(ws, doc.name, (d) => {
      if (d.automlState.rounds[round] !== undefined) return undefined;
      const known = new Set(d.automlState.children.map((c) => c.name));
      d.automlState.children = [
        ...d.automlState.children,
        ...children.map((c) => c.child).filter((c) => !known.has(c.name)),
      ];
      d.automlState.rounds = [...d.automlState.rounds];
      d.automlState.rounds[round] = names;
      d.automl = { ...d.automl, ...extra, phase };
      d.orchestratedAt ??= clock.now();
      if (d.status === 'Queued') {
        d.status = 'Running';
        d.startedAt = clock.now();
        d.statusHistory = [...d.statusHistory, { status: 'Running', at: d.startedAt }];
      }
      return d;
    });
    return names;
  };

  /** The trial-level lines of the parent's log, for trials that finished since the last round. */
  const reportFinished = async (
    ws: string,
    doc: AutomlDocument,
    summary: TrialSummary,
    outcomes: ReadonlyMap<string, ChildOutcome | undefined>,
  ): Promise<void> => {
    // The last round, unless a proposal listed it already (the job then ended without another).
    if ((doc.automlState.reported ?? 0) >= doc.automlState.rounds.length) return;
    const previous = doc.automlState.rounds.at(-1) ?? [];
    const best = summary.leaderboard[0];
    for (const name of previous) {
      const child = doc.automlState.children.find((c) => c.name === name);
      if (child === undefined || child.kind === 'setup' || child.kind === 'explain') continue;
      const entry = summary.leaderboard.find((e) => e.name === name);
      const outcome = outcomes.get(name);
      const what = child.config === undefined ? (entry?.algorithm ?? child.kind) : describe(child.config);
      if (entry !== undefined) {
        const mark = best?.name === name ? '  (best so far)' : '';
        await say(ws, doc.name, `${name}  ${what}  ${summary.primary_metric} ${entry.value.toFixed(6)}${mark}`);
      } else {
        const why = outcome?.error ?? outcome?.status ?? 'unknown';
        await say(ws, doc.name, `${name}  ${what}  ${outcome?.status ?? 'missing'}: ${why}`);
      }
    }
  };

  return {
    /** Validates an AutoML spec (settings, and the data inputs as a command job would resolve them) and stores the parent, Queued. */
    async create(ws: string, body: unknown, context: { createdBy?: string } = {}): Promise<Job> {
      const spec = parseSpec('job', body) as AutomlJobSpec & { type: string };
      if (spec.type !== 'automl') throw new ValidationError('Not an AutoML job.', { target: 'type' });
      const settings = resolveAutomlSettings(spec);
      const name = spec.name ?? generateJobName();
      if ((await (await container()).read(ws, name)) !== undefined) {
        throw new ConflictError(`A job named '${name}' already exists in workspace '${ws}'; job names are unique.`, {
          target: 'name',
        });
      }
      const now = clock.now();
      const experiment = spec.experiment_name ?? 'Default';
      const tags = Object.fromEntries(Object.entries(spec.tags ?? {}).map(([k, v]) => [k, String(v)]));
      const state: AutomlState = { settings, children: [], rounds: [] };
      const draft = {
        name,
        display_name: spec.display_name,
        experiment_name: experiment,
        tags,
        automlState: state,
      } as unknown as AutomlDocument;
      // The setup step checked as a command job: a missing data asset is a 400 now, not a failed job later.
      await deps.jobs.validate(ws, setupSpec(draft, spec, settings));
      const { experimentId } = await deps.tracking.startJobRun(ws, {
        runId: name,
        experimentName: experiment,
        runName: spec.display_name ?? name,
        tags: [
          ...Object.entries(tags).map(([key, value]) => ({ key, value })),
          { key: 'mlflow.source.type', value: 'JOB' },
          { key: 'azureml.runsource', value: 'automl' },
          { key: 'task', value: settings.task },
        ],
        startTime: now,
      });
      const doc = {
        id: name,
        pk: ws,
        kind: 'job',
        schemaVersion: 1,
        name,
        workspace: ws,
        type: 'automl',
        ...(spec.display_name === undefined ? {} : { display_name: spec.display_name }),
        ...(spec.description === undefined ? {} : { description: spec.description }),
        experiment_name: experiment,
        tags,
        status: 'Queued',
        compute: spec.compute?.replace(/^azureml:/, '') ?? 'local',
        spec: { ...spec, name } as Record<string, unknown>,
        statusHistory: [{ status: 'Queued', at: now }],
        createdAt: now,
        notices: settings.notices,
        outputs: {},
        artifacts_uri: runArtifactsUri(experimentId, name),
        mlflow: {
          run_id: name,
          experiment_id: experimentId,
          tracking_uri: `${deps.publicUrl}/api/workspaces/${ws}/mlflow`,
        },
        attempt: 1,
        archived: false,
        automlState: state,
        automl: { task: settings.task, phase: 'setup' },
        trials: {
          primary_metric: settings.primaryMetric,
          goal: METRIC_GOALS[settings.primaryMetric],
          created: 0,
          max_total_trials: settings.maxTrials,
          leaderboard: [],
        },
        ...(context.createdBy === undefined ? {} : { createdBy: context.createdBy }),
      } as unknown as AutomlDocument;
      const stored = await (await container()).create(doc);
      return deps.jobs.get(ws, stored.name);
    },

    /**
     * The next round of child jobs: the setup, then batches of trials from the proposer, then the
     * ensembles and the explanation; done when nothing is left (or the job was canceled, or its
     * setup failed). Idempotent per round.
     */
    async propose(ws: string, name: string, round: number, timedOut = false): Promise<TrialsProposeResult> {
      const doc = await read(ws, name);
      const { settings } = doc.automlState;
      // The search gets SEARCH_SHARE of timeout_minutes; the ensembles and the explanation the rest.
      const searchSeconds = settings.timeoutSeconds === undefined ? undefined : settings.timeoutSeconds * SEARCH_SHARE;
      const timeout = searchSeconds === undefined ? {} : { timeoutSeconds: searchSeconds };
      const again = doc.automlState.rounds[round];
      if (again !== undefined) return { trials: again, done: false, ...timeout };
      if (isTerminal(doc.status) || doc.cancelRequested === true) return { trials: [], done: true, ...timeout };
      const spec = doc.spec as unknown as AutomlJobSpec;
      const phase = doc.automl.phase;

      if (doc.automlState.children.length === 0) {
        await say(
          ws,
          name,
          `AutoML ${settings.task} on ${settings.targetColumn}: setting up (reading and checking the data)`,
        );
        const names = await startRound(
          ws,
          doc,
          round,
          [{ child: { name: `${name}_setup`, kind: 'setup' }, spec: setupSpec(doc, spec, settings) }],
          'setup',
        );
        await deps.tracking.setJobRunStatus(ws, name, 'RUNNING');
        return { trials: names, done: false, ...timeout };
      }
      const setup = await jobOrUndefined(ws, `${name}_setup`);
      if (setup?.status !== 'Completed') return { trials: [], done: true, ...timeout };

      const { summary, history, setupMetric: metric, outcomes, ended } = await results(ws, doc);
      await reportFinished(ws, doc, summary, outcomes);
      // The setup's notices (columns left out, series dropped, ...) join the job's, once.
      const setupNotices = phase === 'setup' ? await readSetupNotices(ws, setup.name) : [];
      for (const notice of setupNotices) {
        if (!doc.notices.includes(notice)) await say(ws, name, `notice: ${notice}`);
      }
      await update(ws, name, (d) => {
        d.trials = summary;
        d.automlState.ended = { ...d.automlState.ended, ...ended };
        d.automlState.reported = d.automlState.rounds.length;
        d.notices = [...d.notices, ...setupNotices.filter((n) => !d.notices.includes(n))];
        return d;
      });

      if (phase === 'setup' || phase === 'search') {
        const stopped = stopReason(doc, history, timedOut);
        if (stopped === undefined) {
          const room = settings.maxTrials - history.length;
          const count = Math.min(settings.maxConcurrentTrials, room);
          const configs =
            settings.task === 'forecasting'
              ? proposeForecastTrials({ settings, history, count, seasonal: metric('seasonal') > 0 })
              : proposeTrials({
                  settings,
                  rows: metric('rows'),
                  features: metric('features'),
                  ...(metric('classes') > 0 ? { classes: metric('classes') } : {}),
                  ...(metric('folds') > 0 ? { folds: metric('folds') } : {}),
                  history,
                  count,
                  ...(searchSeconds === undefined || doc.startedAt === undefined
                    ? {}
                    : { maxSeconds: searchSeconds - (clock.now() - doc.startedAt) / 1000 }),
                });
          if (configs.length > 0) {
            if (phase === 'setup')
              await say(ws, name, `search: up to ${settings.maxTrials} trials, ${count} at a time`);
            const start = history.length;
            const names = await startRound(
              ws,
              doc,
              round,
              configs.map((config, i) => ({
                child: { name: `${name}_${start + i}`, kind: 'trial' as const, config },
                spec: trialSpec(doc, spec, start + i, config),
              })),
              'search',
            );
            return { trials: names, done: false, ...timeout };
          }
          const why =
            settings.timeoutSeconds === undefined
              ? 'the proposer has no new configuration'
              : 'no new configuration is predicted to finish before timeout_minutes';
          return closing(ws, await read(ws, name), round, why, summary, timeout);
        }
        return closing(ws, doc, round, stopped, summary, timeout);
      }
      if (phase === 'ensembles') return explain(ws, doc, round, summary, timeout);
      return { trials: [], done: true, ...timeout };
    },

    cancelTrials: (ws: string, trials: readonly string[], reason: string) =>
      deps.sweeps.cancelTrials(ws, trials, reason),

    /** Ends the job: leaderboard, best model registered, explanation, final status, the parent run's summary. */
    async finalize(ws: string, name: string, outcome: 'completed' | 'canceled' | 'timeout'): Promise<JobStatus> {
      const doc = await read(ws, name);
      if (isTerminal(doc.status)) return doc.status;
      const { summary, why, outcomes } = await results(ws, doc);
      await reportFinished(ws, doc, summary, outcomes);
      const setup = await jobOrUndefined(ws, `${name}_setup`);
      const best = summary.leaderboard.find((e) => e.name === summary.best);
      const now = clock.now();
      // A cancel the proposer saw before the orchestration got its event ends the search 'completed'
      // (nothing more proposed): it is still the user's cancel.
      const canceled = outcome === 'canceled' || doc.cancelRequested === true;
      let status: JobStatus = canceled ? 'Canceled' : best !== undefined ? 'Completed' : 'Failed';
      let error: { code: string; message: string } | undefined;
      if (status === 'Failed') {
        error =
          setup?.status === 'Failed'
            ? {
                code: 'DataCheckFailed',
                message: `The setup step ${setup.name} failed: ${setup.error?.message ?? `see its log (tessera job stream -n ${setup.name})`}`,
              }
            : outcome === 'timeout'
              ? {
                  code: 'JobTimeout',
                  message: `limits.timeout_minutes was reached before any trial completed with ${summary.primary_metric}.`,
                }
              : {
                  code: 'NoTrialSucceeded',
                  message: `No trial completed with a value of ${summary.primary_metric}; see the trials' errors (tessera job list, tessera job show).`,
                };
      }
      const registered: Record<string, { type: string; uri: string; asset?: string }> = {};
      let bestModel: string | undefined;
      let explanation: FeatureImportance | undefined;
      if (status === 'Completed' && best !== undefined) {
        const bestJob = await deps.jobs.get(ws, best.name);
        const produced = bestJob.outputs.model;
        const spec = doc.spec as unknown as AutomlJobSpec;
        const wanted = (
          (spec as { outputs?: Record<string, { name?: string; version?: string | number }> }).outputs ?? {}
        ).best_model;
        if (produced !== undefined) {
          try {
            bestModel = await deps.jobs.registerOutput(
              ws,
              name,
              {
                type: 'custom_model',
                uri: produced.uri,
                name: wanted?.name ?? name,
                ...(wanted?.version === undefined ? {} : { version: String(wanted.version) }),
                description: `Best model of AutoML job ${name}: ${best.algorithm ?? ''} (${best.name}), ${summary.primary_metric} ${best.value}`,
              },
              `Best model of AutoML job ${name}`,
              { 'azureml.job': best.name, 'azureml.automl': name, algorithm: best.algorithm ?? '' },
            );
            registered.best_model = { type: 'custom_model', uri: produced.uri, asset: bestModel };
          } catch (err) {
            status = 'Failed';
            error = {
              code: 'ModelRegistrationFailed',
              message: `The best model (${best.name}) could not be registered: ${err instanceof Error ? err.message : String(err)}`,
            };
          }
        }
        const explain = await jobOrUndefined(ws, `${name}_explain`);
        if (explain?.status === 'Completed') {
          const bytes = await deps.jobs.readOutputFile(ws, explain.name, 'explanation', 'importance.json');
          if (bytes !== undefined) explanation = JSON.parse(bytes.toString('utf8')) as FeatureImportance;
        }
      }
      // The last line of the job's log goes out before its final status: `job stream` stops at that status.
      if (best !== undefined && status === 'Completed') {
        if (why !== undefined) await say(ws, name, why);
        await say(
          ws,
          name,
          `best: ${best.name} (${best.algorithm ?? ''}) ${summary.primary_metric} ${best.value.toFixed(6)}; registered ${bestModel ?? '(nothing)'}`,
        );
      } else if (error !== undefined) {
        await say(ws, name, `${status}: ${error.message}`);
      }
      await update(ws, name, (d) => {
        if (isTerminal(d.status)) return undefined;
        d.trials = summary;
        d.outputs = registered;
        d.automl = {
          ...d.automl,
          phase: 'done',
          ...(bestModel === undefined ? {} : { best_model: bestModel }),
          ...(explanation === undefined ? {} : { explanation }),
        };
        d.status = status;
        d.endedAt = now;
        d.statusHistory = [...d.statusHistory, { status, at: now }];
        if (outcome === 'timeout') {
          d.notices = [...d.notices, 'limits.timeout_minutes was reached: the running trials were canceled.'];
        }
        if (why !== undefined && status === 'Completed') d.notices = [...d.notices, why];
        if (error !== undefined) d.error = error;
        return d;
      });
      if (best !== undefined && status === 'Completed') {
        await deps.tracking.logBatch(ws, {
          run_id: name,
          metrics: [{ key: summary.primary_metric, value: best.value, timestamp: now, step: 0 }],
          tags: [
            { key: 'best_child_run_id', value: best.name },
            ...(best.algorithm === undefined ? [] : [{ key: 'best_algorithm', value: best.algorithm }]),
          ],
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

  /** After the search: the ensembles of the best trials (when enabled and there are two to combine). */
  async function closing(
    ws: string,
    doc: AutomlDocument,
    round: number,
    stopped: string,
    summary: TrialSummary,
    timeout: { timeoutSeconds?: number },
  ): Promise<TrialsProposeResult> {
    const { settings } = doc.automlState;
    await say(ws, doc.name, `search stopped: ${stopped}`);
    // The best trial of each of the best algorithms: ensembles gain from members that differ.
    const candidates = summary.leaderboard.filter((e) => !e.name.endsWith('_vote') && !e.name.endsWith('_stack'));
    const seen = new Set<string>();
    const diverse = candidates.filter((e) => {
      const key = e.algorithm ?? e.name;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const members = diverse.slice(0, ENSEMBLE_CANDIDATES).map((e) => e.name);
    const spec = doc.spec as unknown as AutomlJobSpec;
    const children: { child: AutomlChild; spec: Record<string, unknown> }[] = [];
    if (settings.task !== 'forecasting' && members.length >= 2) {
      if (settings.enableVoteEnsemble) {
        children.push({
          child: { name: `${doc.name}_vote`, kind: 'vote' },
          spec: ensembleSpec(doc, spec, 'vote', members),
        });
      }
      if (settings.enableStackEnsemble) {
        children.push({
          child: { name: `${doc.name}_stack`, kind: 'stack' },
          spec: ensembleSpec(doc, spec, 'stack', members),
        });
      }
    }
    if (children.length === 0) {
      await update(ws, doc.name, (d) => {
        d.automl = { ...d.automl, stopped, phase: 'ensembles' };
        return d;
      });
      return explain(ws, await read(ws, doc.name), round, summary, timeout);
    }
    await say(ws, doc.name, `ensembles of ${members.join(', ')}`);
    const names = await startRound(ws, doc, round, children, 'ensembles', { stopped });
    return { trials: names, done: false, closing: true, ...timeout };
  }

  /** The explanation of the best model (tabular tasks, unless enable_model_explainability is false), then nothing. */
  async function explain(
    ws: string,
    doc: AutomlDocument,
    round: number,
    summary: TrialSummary,
    timeout: { timeoutSeconds?: number },
  ): Promise<TrialsProposeResult> {
    const best = summary.leaderboard.find((e) => e.name === summary.best);
    const { settings } = doc.automlState;
    if (best === undefined || settings.task === 'forecasting') return { trials: [], done: true, ...timeout };
    if (settings.explainBestModel === false) {
      await say(ws, doc.name, `${best.name} is not explained: training.enable_model_explainability is false`);
      return { trials: [], done: true, ...timeout };
    }
    await say(ws, doc.name, `explaining ${best.name} (permutation importance on holdout rows)`);
    const spec = doc.spec as unknown as AutomlJobSpec;
    const names = await startRound(
      ws,
      doc,
      round,
      [{ child: { name: `${doc.name}_explain`, kind: 'explain' }, spec: explainSpec(doc, spec, best.name) }],
      'explain',
    );
    return { trials: names, done: false, closing: true, ...timeout };
  }
}

function describe(config: TrialConfig): string {
  const params = Object.entries(config.params)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
    .join(' ');
  return params === '' ? config.algorithm : `${config.algorithm} ${params}`;
}

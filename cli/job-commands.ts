import type { Job, JobStatus } from '../shared/contracts/job.js';
import { JOB_STATUSES } from '../shared/contracts/job.js';
import { loadSpecFile } from '../shared/services/spec-file.js';
import { SpecError } from '../shared/domain/azureml/spec-loader.js';
import { uploadSpecLocalPaths } from './local-uploads.js';
import type { UploadContext } from './local-uploads.js';
import type { MLClient } from './sdk/ml-client.js';
import { render, table } from './output.js';
import type { OutputFormat } from './output.js';
import { CliUsageError } from './usage-error.js';

/** `tessera job <verb>`, as `az ml job <verb>`. */

export interface JobCommandOptions {
  file?: string;
  set: string[];
  name?: string;
  /** `create --stream`: follow the log until the job ends. */
  stream: boolean;
  experiment?: string;
  status?: string;
  archived?: 'false' | 'true' | 'all';
  limit?: number;
  continuation?: string;
  downloadPath?: string;
  outputName?: string;
  all: boolean;
  output: OutputFormat;
  /** Draw upload progress (uploads over a few MB) on this stream. */
  progress?: (text: string) => void;
  /** Milliseconds between log polls (default: the SDK's). */
  pollMs?: number;
}

export interface JobCommandContext extends UploadContext {
  client: MLClient;
  stdout(text: string): void;
  stderr(text: string): void;
}

const LIST_COLUMNS = ['name', 'status', 'experiment_name', 'compute', 'createdAt'];

/** The job kinds a spec may hold that Tessera validates but does not run yet. */
function notRunnable(file: string, jobKind: string): SpecError {
  return new SpecError({
    file,
    keyPath: 'type',
    problem: `${jobKind} jobs are not supported by tessera job create yet`,
    hint: 'command, sweep and AutoML (classification, regression, forecasting) jobs run on Tessera for now',
  });
}

function parseStatus(value: string): JobStatus {
  const status = JOB_STATUSES.find((s) => s.toLowerCase() === value.toLowerCase());
  if (status === undefined)
    throw new CliUsageError(`--status must be one of ${JOB_STATUSES.join(', ')}, got '${value}'`);
  return status;
}

/** Epoch milliseconds read as dates in tables. */
function forTable(job: Job): Record<string, unknown> {
  return { ...job, createdAt: new Date(job.createdAt).toISOString() };
}

/** A parent job's leaderboard (best first) and, for AutoML, its best model's feature importance, as tables. */
function trialTables(job: Job): string {
  const parts: string[] = [];
  const board = job.trials?.leaderboard ?? [];
  if (board.length > 0) {
    parts.push(
      `\nLeaderboard (${job.trials?.primary_metric ?? ''}, best first; ${board.length} scored, ${job.trials?.created ?? 0} trials created):\n`,
      table(
        board.slice(0, 15).map((e) => ({
          trial: e.name,
          algorithm: e.algorithm ?? '',
          [job.trials?.primary_metric ?? 'value']: e.value,
          parameters: Object.entries(e.parameters)
            .filter(([k]) => k !== 'algorithm')
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' '),
        })),
        ['trial', 'algorithm', job.trials?.primary_metric ?? 'value', 'parameters'],
      ),
    );
  }
  const stopped = job.trials?.stopped ?? [];
  if (stopped.length > 0) {
    parts.push(
      `\nStopped early (${stopped.length}):\n`,
      table(
        stopped.map((s) => ({ trial: s.name, policy: s.policy, interval: s.interval, reason: s.reason })),
        ['trial', 'policy', 'interval', 'reason'],
      ),
    );
  }
  const explanation = job.automl?.explanation;
  if (explanation !== undefined) {
    parts.push(
      `\nPermutation importance (drop in ${explanation.metric} on ${explanation.rows} rows of ${explanation.holdout}; baseline ${explanation.baseline}):\n`,
      table(explanation.columns, ['column', 'importance', 'std']),
    );
    const metrics = Object.entries(explanation.metrics ?? {});
    if (metrics.length > 0) {
      parts.push(
        `\nHoldout metrics (${explanation.rows} rows of ${explanation.holdout}):\n`,
        table(
          metrics.map(([metric, value]) => ({ metric, value })),
          ['metric', 'value'],
        ),
      );
    }
  }
  if (job.automl?.best_model !== undefined) parts.push(`\nBest model: ${job.automl.best_model}\n`);
  return parts.join('');
}

/**
 * `tessera job create --file job.yml`: loads and validates the YAML as `az ml job create` does,
 * uploads the local paths it names (code, inputs), then submits it. Nothing is submitted when the
 * spec is invalid or a local path is missing, and nothing is uploaded in the latter case.
 */
async function create(options: JobCommandOptions, ctx: JobCommandContext): Promise<Job> {
  if (options.file === undefined) throw new CliUsageError('job create: --file is required');
  const set = [...options.set];
  if (options.name !== undefined) set.push(`name=${options.name}`);
  const loaded = await loadSpecFile(options.file, { expectedKind: 'job', set });
  if (loaded.kind !== 'job') {
    throw new CliUsageError(
      `${options.file} is a ${loaded.kind} spec, not a job: use 'tessera ${loaded.kind} create'.`,
    );
  }
  if (loaded.jobKind !== 'command' && loaded.jobKind !== 'sweep' && loaded.jobKind !== 'automl') {
    throw notRunnable(options.file, loaded.jobKind ?? 'unknown');
  }
  const spec = await uploadSpecLocalPaths(ctx, loaded, options.progress);
  return ctx.client.jobs.createOrUpdate(spec);
}

/**
 * Follows a job's log on stdout, then says how it ended on stderr. Exit code 0 only when it
 * completed, so scripts can chain on `tessera job stream`.
 */
async function stream(name: string, options: JobCommandOptions, ctx: JobCommandContext): Promise<number> {
  const job = await ctx.client.jobs.stream(name, {
    onText: (text) => ctx.stdout(text),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });
  const error = job.error === undefined ? '' : `: ${job.error.message} (${job.error.code})`;
  ctx.stderr(`Job ${job.name} ${job.status}${error}\n`);
  return job.status === 'Completed' ? 0 : 1;
}

/** Runs `tessera job <verb>`; returns the exit code. */
export async function runJobCommand(verb: string, options: JobCommandOptions, ctx: JobCommandContext): Promise<number> {
  const name = (): string => {
    if (options.name === undefined || options.name === '')
      throw new CliUsageError(`job ${verb}: --name (-n) is required`);
    return options.name;
  };
  const print = (value: unknown): number => {
    ctx.stdout(render(value, options.output, LIST_COLUMNS));
    return 0;
  };
  const printJob = (job: Job): number => {
    print(options.output === 'table' ? forTable(job) : job);
    if (options.output === 'table') ctx.stdout(trialTables(job));
    return 0;
  };
  switch (verb) {
    case 'create': {
      const job = await create(options, ctx);
      if (options.output === 'table') {
        ctx.stdout(`Job ${job.name} ${job.status} (experiment ${job.experiment_name}, compute ${job.compute})\n`);
      } else print(job);
      return options.stream ? stream(job.name, options, ctx) : 0;
    }
    case 'show':
      return printJob(await ctx.client.jobs.get(name()));
    case 'list': {
      const list = await ctx.client.jobs.list({
        ...(options.experiment === undefined ? {} : { experiment: options.experiment }),
        ...(options.status === undefined ? {} : { status: parseStatus(options.status) }),
        ...(options.archived === undefined ? {} : { archived: options.archived }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        ...(options.continuation === undefined ? {} : { continuation: options.continuation }),
      });
      return print(options.output === 'table' ? { ...list, value: list.value.map(forTable) } : list);
    }
    case 'stream':
      return stream(name(), options, ctx);
    case 'cancel':
      return printJob(await ctx.client.jobs.cancel(name()));
    case 'archive':
      return printJob(await ctx.client.jobs.archive(name()));
    case 'restore':
      return printJob(await ctx.client.jobs.restore(name()));
    case 'download':
      return print(
        await ctx.client.jobs.download(name(), {
          ...(options.downloadPath === undefined ? {} : { downloadPath: options.downloadPath }),
          ...(options.outputName === undefined ? {} : { outputName: options.outputName }),
          ...(options.all ? { all: true } : {}),
        }),
      );
    default:
      throw new CliUsageError(`Unknown command 'job ${verb}'.`);
  }
}

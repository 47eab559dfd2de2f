import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import type { TrainerAssignmentConfig } from '../shared/config.js';
import { JOB_EVENTS_QUEUE } from '../shared/contracts/job.js';
import type {
  JobExecution,
  JobFinishedMessage,
  JobOutcome,
  JobProgressMessage,
  ProgressStatus,
} from '../shared/contracts/job.js';
import { parseDataUri } from '../shared/domain/data-uri.js';
import { bindCommand } from '../shared/domain/job-command.js';
import { AppError } from '../shared/errors.js';
import type { ArtifactStore } from '../shared/ports/artifact-store.js';
import type { Clock } from '../shared/ports/clock.js';
import type { DatastoreResolver } from '../shared/ports/datastore-resolver.js';
import type { MessageQueue } from '../shared/ports/message-queue.js';
import type { DataAccess } from '../shared/services/data-access.js';
import type { TrainerAssignment } from '../shared/services/job-service.js';
import { STD_LOG } from '../shared/services/job-service.js';
import { LogSink } from './log-sink.js';

/**
 * One attempt of a command job, on the compute: stage the code snapshot and the inputs, run the
 * command through a shell with the MLflow variables and the output folders in its environment,
 * stream its output to user_logs/std_log.txt, upload the outputs, and report each step and the
 * outcome through the job-events queue.
 */

export interface TrainerDeps {
  assignment(ws: string, job: string, attempt: number): Promise<TrainerAssignment>;
  datastores: DatastoreResolver;
  data: DataAccess;
  queue: MessageQueue;
  clock: Clock;
  /** The trainer's own environment; the command gets it without the platform's settings and secrets. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where the trainer's own progress lines go (its process output). */
  log?: (line: string) => void;
}

/** Settings of the platform that the user's command must not see. */
const PLATFORM_KEYS =
  /^(TESSERA_|COSMOS_|BLOB_|SERVICEBUS_|KEY_VAULT_|ENTRA_|CONTAINER_APPS_|TRAINER_|AZURE_CLIENT_SECRET$|AzureWebJobs)/;

class StagingError extends Error {}

/** trainer/bin: the built-in programs child jobs may call (dist/trainer/run-attempt.js → ../../trainer/bin). */
const BUILTIN_BIN = fileURLToPath(new URL('../../trainer/bin', import.meta.url));

export function commandEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  execution: JobExecution,
  token: string | undefined,
  paths: { inputs: Record<string, string>; outputs: Record<string, string> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !PLATFORM_KEYS.test(k)) env[k] = v;
  Object.assign(env, {
    MLFLOW_TRACKING_URI: execution.mlflow.trackingUri,
    MLFLOW_RUN_ID: execution.mlflow.runId,
    MLFLOW_EXPERIMENT_NAME: execution.mlflow.experimentName,
    MLFLOW_EXPERIMENT_ID: execution.mlflow.experimentId,
    AZUREML_RUN_ID: execution.mlflow.runId,
    AZUREML_EXPERIMENT_ID: execution.mlflow.experimentId,
    ...(token === undefined ? {} : { MLFLOW_TRACKING_TOKEN: token }),
  });
  // The built-in programs (tessera-automl) come first on the PATH, run by this trainer's node.
  env.PATH = [BUILTIN_BIN, env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(delimiter);
  env.TESSERA_AUTOML_NODE = process.execPath;
  for (const [name, value] of Object.entries(paths.inputs)) env[`AZURE_ML_INPUT_${name}`] = value;
  for (const [name, value] of Object.entries(paths.outputs)) env[`AZURE_ML_OUTPUT_${name}`] = value;
  Object.assign(env, execution.environmentVariables);
  return env;
}

export async function runAttempt(deps: TrainerDeps, task: TrainerAssignmentConfig): Promise<JobFinishedMessage> {
  const { workspace: ws, job, attempt } = task;
  const say = (line: string): void => deps.log?.(`[trainer ${job}#${attempt}] ${line}`);
  const progress = async (status: ProgressStatus, notices?: string[]): Promise<void> => {
    const body: JobProgressMessage = {
      kind: 'progress',
      workspace: ws,
      job,
      attempt,
      status,
      at: deps.clock.now(),
      ...(notices === undefined ? {} : { notices }),
    };
    await deps.queue.send(JOB_EVENTS_QUEUE, { body, messageId: `${ws}-${job}-${attempt}-${status}` });
  };
  const finished = (outcome: JobOutcome, extra: { exitCode?: number; reason?: string } = {}): JobFinishedMessage => ({
    kind: 'finished',
    workspace: ws,
    job,
    attempt,
    outcome,
    ...extra,
    at: deps.clock.now(),
  });

  const { execution, token } = await deps.assignment(ws, job, attempt);
  await progress('Preparing', task.notices);
  const wd = task.workDir ?? (await mkdtemp(join(tmpdir(), 'tessera-job-')));
  await rm(wd, { recursive: true, force: true });
  await mkdir(wd, { recursive: true });

  const artifacts = await locateFolder(deps.datastores, ws, execution.artifactsUri);
  const logs: LogSink[] = [];
  const sinkFor = (rank: number): LogSink => {
    const path = rank === 0 ? STD_LOG : STD_LOG.replace(/\.txt$/, `_process_${rank}.txt`);
    const sink = new LogSink(artifacts.store, artifacts.container, `${artifacts.prefix}${path}`);
    logs.push(sink);
    return sink;
  };
  const main = sinkFor(0);

  // Stage the code and the inputs.
  const codeDir = join(wd, 'code');
  const inputPaths: Record<string, string> = {};
  const outputPaths: Record<string, string> = {};
  try {
    await mkdir(codeDir, { recursive: true });
    if (execution.code !== undefined) await download(deps.data, ws, execution.code, codeDir, true);
    for (const [name, input] of Object.entries(execution.inputs)) {
      if (input.kind === 'literal') {
        inputPaths[name] = input.value;
        continue;
      }
      if (input.mode === 'direct') {
        inputPaths[name] = input.uri;
        continue;
      }
      const dir = join(wd, 'inputs', name);
      await mkdir(dir, { recursive: true });
      const isFolder =
        input.type !== 'uri_file' && (input.uri.endsWith('/') || (await isFolderUri(deps.data, ws, input.uri)));
      try {
        inputPaths[name] = await download(deps.data, ws, input.uri, dir, isFolder);
      } catch (err) {
        throw new StagingError(`Staging input '${name}' (${input.uri}) failed: ${messageOf(err)}`, { cause: err });
      }
    }
    for (const [name, output] of Object.entries(execution.outputs)) {
      const dir = join(wd, 'outputs', name);
      await mkdir(dir, { recursive: true });
      outputPaths[name] = output.type === 'uri_file' ? join(dir, posix.basename(parseDataPath(output.uri))) : dir;
    }
  } catch (err) {
    const user = err instanceof StagingError || (err instanceof AppError && !err.retryable);
    const reason = err instanceof StagingError ? err.message : `Staging failed: ${messageOf(err)}`;
    main.write(`${reason}\n`);
    await main.close().catch(() => undefined);
    say(reason);
    return finished(user ? 'failed' : 'infrastructure', { reason });
  }

  const command = bindCommand(execution.command, { inputs: inputPaths, outputs: outputPaths });
  const env = commandEnvironment(deps.env, execution, token, { inputs: inputPaths, outputs: outputPaths });
  const shell = existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
  await progress('Running');
  say(`running: ${command}`);

  const ranks = Array.from({ length: Math.max(1, execution.processCount) }, (_, i) => i);
  const masterPort = String(29500 + (Math.abs(hashCode(job)) % 1000));
  const exits = await Promise.all(
    ranks.map(
      (rank) =>
        new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
          const sink = rank === 0 ? main : sinkFor(rank);
          const rankEnv =
            ranks.length === 1
              ? env
              : {
                  ...env,
                  RANK: String(rank),
                  LOCAL_RANK: String(rank),
                  WORLD_SIZE: String(ranks.length),
                  NODE_RANK: '0',
                  MASTER_ADDR: '127.0.0.1',
                  MASTER_PORT: masterPort,
                  AZUREML_PROCESS_RANK: String(rank),
                };
          const child = spawn(shell, ['-c', command], {
            cwd: codeDir,
            env: rankEnv,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          child.stdout.on('data', (c: Buffer) => sink.write(c));
          child.stderr.on('data', (c: Buffer) => sink.write(c));
          child.once('error', (error) => done({ code: null, signal: null, error }));
          child.once('close', (code, signal) => done({ code, signal }));
        }),
    ),
  );
  await Promise.all(logs.map((l) => l.close().catch((err: unknown) => say(`log upload failed: ${messageOf(err)}`))));
  const failedExit = exits.find((e) => e.code !== 0);
  if (failedExit !== undefined) {
    if (failedExit.error !== undefined) {
      return finished('infrastructure', { reason: `The shell ${shell} could not start: ${failedExit.error.message}` });
    }
    const rank = exits.indexOf(failedExit);
    const what = ranks.length > 1 ? `Process ${rank} of the command` : 'The command';
    return finished('failed', {
      ...(failedExit.code === null ? {} : { exitCode: failedExit.code }),
      reason:
        failedExit.signal !== null
          ? `${what} was killed by ${failedExit.signal}.`
          : `${what} exited with code ${failedExit.code ?? '?'}.`,
    });
  }

  await progress('Finalizing');
  try {
    for (const [name, output] of Object.entries(execution.outputs)) {
      const local = outputPaths[name] as string;
      if (output.type === 'uri_file') {
        if (!existsSync(local)) {
          return finished('failed', {
            exitCode: 0,
            reason: `The command succeeded but wrote no file at \${{outputs.${name}}} (${local}).`,
          });
        }
        await uploadFile(deps.datastores, ws, output.uri, local);
      } else {
        await uploadFolder(deps.datastores, ws, output.uri, local);
      }
    }
  } catch (err) {
    return finished('infrastructure', { reason: `Uploading the outputs failed: ${messageOf(err)}` });
  }
  return finished('succeeded', { exitCode: 0 });
}

// ---------------------------------------------------------------------------------------------

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function hashCode(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

function parseDataPath(uri: string): string {
  const parsed = parseDataUri(uri);
  return 'path' in parsed ? parsed.path : uri;
}

async function isFolderUri(data: DataAccess, ws: string, uri: string): Promise<boolean> {
  try {
    return (await data.stat(ws, uri)) === undefined;
  } catch {
    return true;
  }
}

/** Where a datastore folder URI lives: the store, container and the folder's prefix ('' or ending in '/'). */
async function locateFolder(
  datastores: DatastoreResolver,
  ws: string,
  uri: string,
): Promise<{ store: ArtifactStore; container: string; prefix: string }> {
  const parsed = parseDataUri(uri);
  if (parsed.scheme !== 'azureml-datastore') {
    throw new AppError('ValidationError', `Expected azureml://datastores/<datastore>/paths/<path>, got ${uri}.`);
  }
  const r = await datastores.resolve(ws, parsed.datastore);
  const base = r.prefix.replace(/^\/+|\/+$/g, '');
  const folder = parsed.path.replace(/^\/+|\/+$/g, '');
  const prefix = [base, folder].filter((p) => p !== '').join('/');
  return { store: r.store, container: r.container, prefix: prefix === '' ? '' : `${prefix}/` };
}

/**
 * Downloads a file URI into `dir` (returns the file's path) or every file under a folder URI into
 * `dir`, keeping the layout (returns `dir`). Paths are confined to `dir`.
 */
async function download(data: DataAccess, ws: string, uri: string, dir: string, folder: boolean): Promise<string> {
  const root = resolve(dir);
  const write = async (fileUri: string, rel: string): Promise<string> => {
    const target = resolve(root, ...rel.split('/'));
    if (target !== root && !target.startsWith(root + sep)) {
      throw new AppError('ValidationError', `Refusing to write ${rel} outside ${root}.`);
    }
    await mkdir(dirname(target), { recursive: true });
    await pipeline(await data.open(ws, fileUri), createWriteStream(target));
    return target;
  };
  if (!folder) {
    const name = posix.basename(parseDataPath(uri)) || 'data';
    return write(uri, name);
  }
  const base = uri.endsWith('/') ? uri : `${uri}/`;
  for (const fileUri of await data.list(ws, base)) {
    const rel = fileUri.startsWith(base) ? fileUri.slice(base.length) : posix.basename(parseDataPath(fileUri));
    await write(fileUri, decodeURIComponent(rel));
  }
  return root;
}

async function uploadFile(datastores: DatastoreResolver, ws: string, uri: string, local: string): Promise<void> {
  const parsed = parseDataUri(uri);
  if (parsed.scheme !== 'azureml-datastore') throw new AppError('ValidationError', `Cannot write to ${uri}.`);
  const r = await datastores.resolve(ws, parsed.datastore);
  const base = r.prefix.replace(/^\/+|\/+$/g, '');
  const path = [base, parsed.path.replace(/^\/+/, '')].filter((p) => p !== '').join('/');
  await r.store.put(r.container, path, createReadStream(local));
}

async function uploadFolder(datastores: DatastoreResolver, ws: string, uri: string, local: string): Promise<void> {
  const folder = await locateFolder(datastores, ws, uri);
  const walk = async (dir: string): Promise<string[]> => {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) out.push(...(await walk(full)));
      else if (entry.isFile()) out.push(full);
      else if (entry.isSymbolicLink() && (await stat(full)).isFile()) out.push(full);
    }
    return out;
  };
  const files = await walk(local);
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const rel = relative(local, f).split(sep).join('/');
      await folder.store.put(folder.container, `${folder.prefix}${rel}`, createReadStream(f));
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, worker));
}

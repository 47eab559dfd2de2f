import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOB_STATUS_HEADER, JOB_STATUSES, LOG_NEXT_OFFSET_HEADER, isTerminal } from '../../shared/contracts/job.js';
import type { Job, JobList, JobStatus } from '../../shared/contracts/job.js';
import { parseDataUri } from '../../shared/domain/data-uri.js';
import { downloadDatastoreUri } from './datastore-download.js';
import type { RawRequester, Requester } from './requester.js';

/**
 * A command job spec as `az ml job create` sends it: the YAML after loading, with every local path
 * replaced by the `azureml://datastores/...` URI of its upload. The server names the job when
 * `name` is absent.
 */
export interface JobSpecInput {
  name?: string;
  [key: string]: unknown;
}

export interface JobListOptions {
  experiment?: string;
  status?: JobStatus;
  /** Active only (default), archived only, or both. */
  archived?: 'false' | 'true' | 'all';
  limit?: number;
  continuation?: string;
}

export interface JobStreamOptions {
  /** Called with each new piece of the log, in order (decoded as UTF-8, never splitting a character). */
  onText?: (text: string) => void;
  /** Milliseconds between polls while the job runs (default 500). */
  pollMs?: number;
  /** Stops streaming; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface JobDownloadOptions {
  /** Folder to download into (default: the current folder). */
  downloadPath?: string;
  /** Only this named output. */
  outputName?: string;
  /** Every named output and the job's artifacts (logs, run files). */
  all?: boolean;
}

export interface JobDownload {
  /** The download folder: outputs are under named-outputs/<output>/, artifacts under artifacts/. */
  directory: string;
  /** Written files, relative to `directory`. */
  files: string[];
}

const enc = encodeURIComponent;

function jobStatusOf(value: string | null): JobStatus | undefined {
  return JOB_STATUSES.find((s) => s === value);
}

/**
 * Jobs of the client's workspace, shaped like the Python SDK v2's `ml_client.jobs`
 * (`create_or_update`, `get`, `list`, `begin_cancel`, `archive`, `restore`, `stream`, `download`).
 */
export class JobOperations {
  constructor(
    private readonly request: Requester,
    private readonly raw: RawRequester,
    private readonly workspace: () => string,
  ) {}

  private base(name?: string): string {
    return `workspaces/${enc(this.workspace())}/jobs${name === undefined ? '' : `/${enc(name)}`}`;
  }

  /** Submits a job (201); a name that is taken is a 409. Returns at once: the job is queued. */
  createOrUpdate(spec: JobSpecInput): Promise<Job> {
    return this.request('POST', this.base(), spec);
  }

  get(name: string): Promise<Job> {
    return this.request('GET', this.base(name));
  }

  /** Newest first; `continuation` pages on. */
  list(options: JobListOptions = {}): Promise<JobList> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options)) if (v !== undefined) params.set(k, String(v));
    const query = params.toString();
    return this.request('GET', `${this.base()}${query === '' ? '' : `?${query}`}`);
  }

  /** Asks the job to stop (Python's `begin_cancel`); it reaches Canceled once the compute has stopped it. */
  cancel(name: string): Promise<Job> {
    return this.request('POST', `${this.base(name)}/cancel`);
  }

  /** Hides it from lists (it stays readable). */
  archive(name: string): Promise<Job> {
    return this.request('POST', `${this.base(name)}/archive`);
  }

  restore(name: string): Promise<Job> {
    return this.request('POST', `${this.base(name)}/restore`);
  }

  /**
   * Follows the job's log (user_logs/std_log.txt) from the start: polls every `pollMs` while the
   * job runs, hands each new piece to `onText`, and resolves with the final job once it is
   * terminal and the log has been read to the end.
   */
  async stream(name: string, options: JobStreamOptions = {}): Promise<Job> {
    const pollMs = options.pollMs ?? 500;
    if (!Number.isFinite(pollMs) || pollMs < 0) {
      throw new RangeError(`stream: pollMs must be a non-negative number of milliseconds, got ${String(pollMs)}`);
    }
    const signal = options.signal;
    const decoder = new TextDecoder('utf-8');
    let offset = 0;
    for (;;) {
      signal?.throwIfAborted();
      const response = await this.raw(
        `${this.base(name)}/logs?offset=${offset}`,
        signal === undefined ? {} : { signal },
      );
      const bytes = new Uint8Array(await response.arrayBuffer());
      const next = Number(response.headers.get(LOG_NEXT_OFFSET_HEADER) ?? Number.NaN);
      const nextOffset = Number.isSafeInteger(next) && next >= offset ? next : offset + bytes.byteLength;
      const text = decoder.decode(bytes, { stream: true });
      if (text !== '') options.onText?.(text);
      const progressed = nextOffset > offset;
      offset = nextOffset;
      const status = jobStatusOf(response.headers.get(JOB_STATUS_HEADER)) ?? (await this.get(name)).status;
      if (isTerminal(status)) {
        // A terminal job's log only has to be read to its end: read on at once until nothing comes.
        if (progressed) continue;
        const rest = decoder.decode();
        if (rest !== '') options.onText?.(rest);
        return this.get(name);
      }
      try {
        await sleep(pollMs, undefined, signal === undefined ? {} : { signal });
      } catch (err) {
        // Node rejects with its own AbortError; callers get the reason they aborted with.
        if (signal?.aborted === true) throw signal.reason;
        throw err;
      }
    }
  }

  /**
   * Downloads a job's outputs as `az ml job download` does: every named output (or only
   * `outputName`) into `<downloadPath>/named-outputs/<output>/`, and with `all` the job's
   * artifacts (logs and run files) into `<downloadPath>/artifacts/`. Only a finished job's
   * outputs are downloaded.
   */
  async download(name: string, options: JobDownloadOptions = {}): Promise<JobDownload> {
    const job = await this.get(name);
    if (!isTerminal(job.status)) {
      throw new TypeError(
        `download: job ${name} is ${job.status}; its outputs are downloaded once it has finished (wait with 'tessera job stream -n ${name}').`,
      );
    }
    const available = Object.keys(job.outputs);
    let names = available;
    if (options.outputName !== undefined) {
      if (!(options.outputName in job.outputs)) {
        throw new TypeError(
          `download: job ${name} has no output '${options.outputName}'; its outputs: ${available.length === 0 ? '(none)' : available.join(', ')}.`,
        );
      }
      names = [options.outputName];
    }
    const directory = resolve(options.downloadPath ?? '.');
    const access = { request: this.request, raw: this.raw, workspace: this.workspace() };
    const files: string[] = [];
    const fetchFolder = async (uri: string, what: string, into: string): Promise<void> => {
      const parsed = parseDataUri(uri);
      if (parsed.scheme !== 'azureml-datastore') {
        throw new TypeError(
          `download: ${what} of job ${name} lives at ${uri}; only workspace datastores are downloaded.`,
        );
      }
      const written = await downloadDatastoreUri(access, parsed, join(directory, into));
      files.push(...written.map((f) => join(into, f)));
    };
    for (const output of names) {
      // Output names become folder names: one plain segment, never '.', '..' or a path.
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(output) || output === '..') {
        throw new TypeError(
          `download: job ${name} has an output named ${JSON.stringify(output)}; refusing to use it as a folder name.`,
        );
      }
      const view = job.outputs[output];
      if (view !== undefined) await fetchFolder(view.uri, `output '${output}'`, join('named-outputs', output));
    }
    if (options.all === true) await fetchFolder(job.artifacts_uri, 'the artifacts', 'artifacts');
    return { directory, files };
  }
}

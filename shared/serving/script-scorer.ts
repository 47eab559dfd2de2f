/**
 * A JavaScript (or TypeScript) scoring script in a pool of `instance_count` worker threads, each
 * with AZUREML_MODEL_DIR and the deployment's environment variables in its process.env, each
 * having run init() once. A request goes to the worker with the fewest requests in flight and
 * gets run(raw)'s value: a string as is, anything else as JSON. A run() that throws is a 500 with
 * its message. A worker that dies is replaced (init runs again); a worker whose every request in
 * flight was abandoned by the gate (timeout) is terminated and replaced, so a run() stuck in a
 * loop does not hold the slot for ever.
 *
 * TypeScript: Node 20 cannot strip types by itself; a .ts/.mts script is transpiled (types
 * stripped, nothing bundled) with the `typescript` package when it is installed, into a .mjs file
 * beside the script, so its relative imports of .js files still resolve. Without `typescript`, a
 * .ts script is refused with a reason.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as TypeScript from 'typescript';
import {
  errorResponse,
  ScorerInitError,
  type DeploymentRuntime,
  type Scorer,
  type ScoreRequest,
  type ScoreResponse,
} from './scorer.js';
import type { ScriptWorkerData, WorkerReply, WorkerRequest } from './script-worker.js';

const WORKER_URL = new URL('./script-worker.js', import.meta.url);
/** How much of a worker's stdout/stderr is kept for init failure logs. */
const LOG_TAIL = 64 * 1024;

export interface ScriptScorerOptions {
  /** How long init() may take, per worker; default 5 minutes. */
  initTimeoutMs?: number;
  /** Called with a worker's output lines (console.log of the user's script). */
  onOutput?: (text: string) => void;
}

interface Pending {
  resolve: (res: ScoreResponse) => void;
  abandoned: boolean;
}

class ScoringWorker {
  readonly pending = new Map<number, Pending>();
  /** Requests in flight that the gate has not abandoned. */
  live = 0;
  logs = '';

  constructor(readonly worker: Worker) {}
}

/** Resolves the scoring script to a module a worker can import (transpiling TypeScript). */
export async function resolveScriptModule(codeDir: string, scoringScript: string): Promise<string> {
  const path = isAbsolute(scoringScript) ? scoringScript : resolve(codeDir, scoringScript);
  const rel = relative(codeDir, path);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new ScorerInitError(`scoring_script '${scoringScript}' is outside the code folder`, '');
  }
  if (!existsSync(path)) {
    throw new ScorerInitError(`scoring_script '${scoringScript}' does not exist in the code folder`, '');
  }
  const ext = extname(path);
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') return path;
  if (ext === '.ts' || ext === '.mts') return transpile(path);
  if (ext === '.py') {
    throw new ScorerInitError(`scoring_script '${scoringScript}' is Python: deploy it as a python deployment`, '');
  }
  throw new ScorerInitError(
    `scoring_script '${scoringScript}' is not JavaScript or TypeScript (.js, .mjs, .cjs, .ts, .mts)`,
    '',
  );
}

async function transpile(path: string): Promise<string> {
  let ts: typeof TypeScript;
  try {
    const mod = (await import('typescript')) as typeof TypeScript & { default?: typeof TypeScript };
    ts = mod.default ?? mod;
  } catch {
    throw new ScorerInitError(
      `scoring_script '${basename(path)}' is TypeScript, and this Node.js (${process.version}) cannot strip types without the 'typescript' package, which is not installed here: compile it to JavaScript and deploy the .js file`,
      '',
    );
  }
  const source = await readFile(path, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: path,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      sourceMap: false,
      isolatedModules: true,
    },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const text = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n');
    throw new ScorerInitError(`scoring_script '${basename(path)}' does not parse: ${errors.length} error(s)`, text);
  }
  const target = join(dirname(path), `.${basename(path, extname(path))}.tessera.mjs`);
  await writeFile(target, out.outputText);
  return target;
}

export async function createScriptScorer(
  runtime: DeploymentRuntime,
  _deps: unknown,
  options: ScriptScorerOptions = {},
): Promise<Scorer> {
  if (runtime.codeDir === undefined || runtime.scoringScript === undefined) {
    throw new ScorerInitError('a scoring-script deployment needs code_configuration: code and scoring_script', '');
  }
  const modulePath = await resolveScriptModule(runtime.codeDir, runtime.scoringScript);
  const pool = new ScriptPool(modulePath, runtime, options);
  await pool.start();
  return pool;
}

class ScriptPool implements Scorer {
  private readonly workers: (ScoringWorker | undefined)[];
  private nextId = 1;
  private closed = false;
  private readonly env: Record<string, string | undefined>;

  constructor(
    private readonly modulePath: string,
    private readonly runtime: DeploymentRuntime,
    private readonly options: ScriptScorerOptions,
  ) {
    this.workers = new Array<ScoringWorker | undefined>(Math.max(1, runtime.instanceCount)).fill(undefined);
    this.env = { ...process.env, ...runtime.environmentVariables };
    if (runtime.modelDir !== undefined) this.env['AZUREML_MODEL_DIR'] = runtime.modelDir;
  }

  /** Starts every worker; the first init() failure fails the whole start (and stops the rest). */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.workers.map(() => this.spawn()));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure !== undefined) {
      for (const r of results) if (r.status === 'fulfilled') await r.value.worker.terminate();
      throw failure.reason;
    }
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') this.adopt(i, r.value);
    });
  }

  private spawn(): Promise<ScoringWorker> {
    const worker = new Worker(WORKER_URL, {
      workerData: { modulePath: this.modulePath } satisfies ScriptWorkerData,
      env: this.env,
      stdout: true,
      stderr: true,
    });
    const w = new ScoringWorker(worker);
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      w.logs = (w.logs + text).slice(-LOG_TAIL);
      this.options.onOutput?.(text);
    };
    worker.stdout.on('data', keep);
    worker.stderr.on('data', keep);
    return new Promise<ScoringWorker>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new ScorerInitError(`init() did not finish within ${this.initTimeout} ms`, w.logs));
      }, this.initTimeout);
      const onMessage = (msg: WorkerReply): void => {
        if (!('ready' in msg)) return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (msg.ready) resolvePromise(w);
        else {
          void worker.terminate();
          reject(new ScorerInitError(`init() failed: ${msg.message}`, joinLogs(msg.stack, w.logs)));
        }
      };
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(
          new ScorerInitError(
            `the scoring script failed to load: ${error.message}`,
            joinLogs(error.stack ?? '', w.logs),
          ),
        );
      };
      const onExit = (code: number): void => {
        clearTimeout(timer);
        reject(new ScorerInitError(`the scoring worker exited with code ${code} during init()`, w.logs));
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
  }

  private get initTimeout(): number {
    return this.options.initTimeoutMs ?? 300_000;
  }

  /** Makes a ready worker serve slot i: answers its replies, replaces it when it dies. */
  private adopt(i: number, w: ScoringWorker): void {
    this.workers[i] = w;
    w.worker.on('message', (msg: WorkerReply) => {
      if (!('id' in msg)) return;
      const p = w.pending.get(msg.id);
      if (p === undefined) return;
      w.pending.delete(msg.id);
      if (!p.abandoned) w.live--;
      p.resolve(
        msg.ok
          ? {
              status: 200,
              body: msg.body,
              contentType: msg.json || looksLikeJson(msg.body) ? 'application/json' : 'text/plain',
            }
          : errorResponse(500, 'ScoringScriptError', `run() failed: ${msg.message}`),
      );
    });
    w.worker.on('error', (error) => this.lost(i, w, `the scoring worker crashed: ${error.message}`));
    w.worker.on('exit', (code) => this.lost(i, w, `the scoring worker exited with code ${code}`));
  }

  /** A worker is gone: fail what it held and start its replacement. */
  private lost(i: number, w: ScoringWorker, reason: string): void {
    if (this.workers[i] !== w) return;
    this.workers[i] = undefined;
    for (const p of w.pending.values()) p.resolve(errorResponse(500, 'ScoringWorkerLost', reason));
    w.pending.clear();
    void w.worker.terminate();
    if (this.closed) return;
    this.spawn().then(
      (fresh) => {
        if (this.closed) void fresh.worker.terminate();
        else this.adopt(i, fresh);
      },
      (error: Error) => this.options.onOutput?.(`replacing a scoring worker failed: ${error.message}\n`),
    );
  }

  score(req: ScoreRequest, signal: AbortSignal): Promise<ScoreResponse> {
    let best: ScoringWorker | undefined;
    for (const w of this.workers) if (w !== undefined && (best === undefined || w.live < best.live)) best = w;
    if (best === undefined || this.closed) {
      return Promise.resolve(
        errorResponse(503, 'NoScoringWorker', 'no scoring worker is ready (one is being replaced); retry', {
          'Retry-After': '1',
        }),
      );
    }
    const w = best;
    const id = this.nextId++;
    return new Promise<ScoreResponse>((resolvePromise) => {
      const onAbort = (): void => {
        if (p.abandoned || !w.pending.has(id)) return;
        p.abandoned = true;
        w.live--;
        if (w.live === 0) {
          // Every request this worker holds was given up: it may be stuck; replace it.
          const i = this.workers.indexOf(w);
          if (i >= 0) this.lost(i, w, 'the request timed out and its worker was restarted');
        }
      };
      const p: Pending = {
        resolve: (res) => {
          signal.removeEventListener('abort', onAbort);
          resolvePromise(res);
        },
        abandoned: false,
      };
      w.pending.set(id, p);
      w.live++;
      signal.addEventListener('abort', onAbort, { once: true });
      w.worker.postMessage({ id, body: req.body.toString('utf8') } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(
      workers.map(async (w) => {
        if (w === undefined) return;
        for (const p of w.pending.values())
          p.resolve(errorResponse(503, 'ScorerClosed', 'the deployment was replaced'));
        w.pending.clear();
        await w.worker.terminate();
      }),
    );
  }
}

function looksLikeJson(text: string): boolean {
  const c = text.trimStart()[0];
  return c === '{' || c === '[';
}

function joinLogs(stack: string, output: string): string {
  return output === '' ? stack : `${stack}\n--- output ---\n${output}`;
}

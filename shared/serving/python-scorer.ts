/**
 * An Azure ML-style Python scoring script (score.py with init() and run(raw)) served by
 * `instance_count` long-lived `python3 -u bridge.py <score.py>` processes, one request in flight
 * per process, the rest waiting in FIFO order. The bridge (bridge.py beside this file, or in
 * shared/serving/ of the source tree when running from dist/) speaks JSON lines on stdin/stdout.
 * A process that dies is replaced; an in-flight request abandoned by the gate (timeout) kills its
 * process, which is replaced, so a stuck run() does not hold a slot for ever.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, extname, isAbsolute, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  errorResponse,
  ScorerInitError,
  type DeploymentRuntime,
  type Scorer,
  type ScoreRequest,
  type ScoreResponse,
} from './scorer.js';

const LOG_TAIL = 64 * 1024;

export interface PythonScorerOptions {
  /** The interpreter; default 'python3'. */
  python?: string;
  initTimeoutMs?: number;
  onOutput?: (text: string) => void;
}

type BridgeReply =
  | { ready: true }
  | { ready: false; message: string; trace: string }
  | { id: number; ok: true; body: string; json: boolean }
  | { id: number; ok: false; message: string; trace: string };

interface Job {
  id: number;
  body: string;
  resolve: (res: ScoreResponse) => void;
  signal: AbortSignal;
}

/** Where bridge.py is: beside this module (if copied) or in the source tree. */
export function bridgePath(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const candidate of [resolve(here, 'bridge.py'), resolve(here, '../../../shared/serving/bridge.py')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new ScorerInitError(`bridge.py is missing (looked beside ${here} and in shared/serving/)`, '');
}

class BridgeProcess {
  current: Job | undefined;
  logs = '';
  constructor(readonly child: ChildProcessWithoutNullStreams) {}
}

export async function createPythonScorer(
  runtime: DeploymentRuntime,
  _deps: unknown,
  options: PythonScorerOptions = {},
): Promise<Scorer> {
  if (runtime.codeDir === undefined || runtime.scoringScript === undefined) {
    throw new ScorerInitError('a Python deployment needs code_configuration: code and scoring_script', '');
  }
  const script = isAbsolute(runtime.scoringScript)
    ? runtime.scoringScript
    : resolve(runtime.codeDir, runtime.scoringScript);
  const rel = relative(runtime.codeDir, script);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new ScorerInitError(`scoring_script '${runtime.scoringScript}' is outside the code folder`, '');
  }
  if (!existsSync(script)) {
    throw new ScorerInitError(`scoring_script '${runtime.scoringScript}' does not exist in the code folder`, '');
  }
  if (extname(script) !== '.py') {
    throw new ScorerInitError(`scoring_script '${basename(script)}' is not a Python file (.py)`, '');
  }
  const pool = new PythonPool(script, runtime, options, bridgePath());
  await pool.start();
  return pool;
}

class PythonPool implements Scorer {
  private readonly procs: (BridgeProcess | undefined)[];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly script: string,
    private readonly runtime: DeploymentRuntime,
    private readonly options: PythonScorerOptions,
    private readonly bridge: string,
  ) {
    this.procs = new Array<BridgeProcess | undefined>(Math.max(1, runtime.instanceCount)).fill(undefined);
    this.env = { ...process.env, ...runtime.environmentVariables, PYTHONUNBUFFERED: '1' };
    if (runtime.modelDir !== undefined) this.env['AZUREML_MODEL_DIR'] = runtime.modelDir;
  }

  async start(): Promise<void> {
    const results = await Promise.allSettled(this.procs.map(() => this.spawn()));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure !== undefined) {
      for (const r of results) if (r.status === 'fulfilled') r.value.child.kill('SIGKILL');
      throw failure.reason;
    }
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') this.adopt(i, r.value);
    });
  }

  private spawn(): Promise<BridgeProcess> {
    const python = this.options.python ?? 'python3';
    return new Promise<BridgeProcess>((resolvePromise, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = spawn(python, ['-u', this.bridge, this.script], {
          cwd: this.runtime.codeDir,
          env: this.env,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch (error) {
        reject(new ScorerInitError(`python could not be started: ${(error as Error).message}`, ''));
        return;
      }
      const p = new BridgeProcess(child);
      child.stderr.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        p.logs = (p.logs + text).slice(-LOG_TAIL);
        this.options.onOutput?.(text);
      });
      const lines = createInterface({ input: child.stdout });
      let ready = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new ScorerInitError(`init() did not finish within ${this.options.initTimeoutMs ?? 300_000} ms`, p.logs));
      }, this.options.initTimeoutMs ?? 300_000);
      child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new ScorerInitError(
            error.code === 'ENOENT'
              ? `${python} is not installed on this host: Python scoring scripts need it (deploy a JavaScript or no-code ONNX deployment instead)`
              : `${python} could not be started: ${error.message}`,
            '',
          ),
        );
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        if (!ready) {
          reject(new ScorerInitError(`python exited (${sig ?? `code ${code}`}) before init() finished`, p.logs));
        } else this.lost(p, `the Python scoring process exited (${sig ?? `code ${code}`})`);
      });
      lines.on('line', (line) => {
        let msg: BridgeReply;
        try {
          msg = JSON.parse(line) as BridgeReply;
        } catch {
          return;
        }
        if ('ready' in msg) {
          clearTimeout(timer);
          if (msg.ready) {
            ready = true;
            resolvePromise(p);
          } else {
            child.kill('SIGKILL');
            reject(new ScorerInitError(`init() failed: ${msg.message}`, joinLogs(msg.trace, p.logs)));
          }
          return;
        }
        const job = p.current;
        if (job === undefined || job.id !== msg.id) return;
        p.current = undefined;
        job.resolve(
          msg.ok
            ? {
                status: 200,
                body: msg.body,
                contentType: msg.json || looksLikeJson(msg.body) ? 'application/json' : 'text/plain',
              }
            : errorResponse(500, 'ScoringScriptError', `run() failed: ${msg.message}`),
        );
        this.next(p);
      });
    });
  }

  private adopt(i: number, p: BridgeProcess): void {
    this.procs[i] = p;
    this.next(p);
  }

  /** A process is gone: fail its request and start a replacement in its slot. */
  private lost(p: BridgeProcess, reason: string): void {
    const i = this.procs.indexOf(p);
    if (i < 0) return;
    this.procs[i] = undefined;
    p.current?.resolve(errorResponse(500, 'ScoringProcessLost', reason));
    p.current = undefined;
    if (this.closed) return;
    this.spawn().then(
      (fresh) => {
        if (this.closed) fresh.child.kill('SIGKILL');
        else this.adopt(i, fresh);
      },
      (error: Error) => {
        this.options.onOutput?.(`replacing a Python scoring process failed: ${error.message}\n`);
        // Nothing left to serve the queue: answer it rather than let it wait for the gate's timeout.
        if (this.procs.every((q) => q === undefined)) {
          for (const job of this.queue.splice(0)) job.resolve(errorResponse(503, 'NoScoringProcess', error.message));
        }
      },
    );
  }

  /** Gives an idle process the oldest waiting job that is still wanted. */
  private next(p: BridgeProcess): void {
    if (p.current !== undefined) return;
    let job = this.queue.shift();
    while (job !== undefined && job.signal.aborted) job = this.queue.shift();
    if (job === undefined) return;
    p.current = job;
    p.child.stdin.write(`${JSON.stringify({ id: job.id, body: job.body })}\n`);
  }

  score(req: ScoreRequest, signal: AbortSignal): Promise<ScoreResponse> {
    if (this.closed) return Promise.resolve(errorResponse(503, 'ScorerClosed', 'the deployment was replaced'));
    return new Promise<ScoreResponse>((resolvePromise) => {
      const onAbort = (): void => {
        const q = this.queue.indexOf(job);
        if (q >= 0) {
          this.queue.splice(q, 1);
          job.resolve(errorResponse(504, 'RequestTimeout', 'the request timed out waiting for a Python process'));
          return;
        }
        const owner = this.procs.find((x) => x?.current === job);
        if (owner !== undefined) owner.child.kill('SIGKILL'); // its exit replaces it and answers the job
      };
      const job: Job = {
        id: this.nextId++,
        body: req.body.toString('utf8'),
        resolve: (res) => {
          signal.removeEventListener('abort', onAbort);
          resolvePromise(res);
        },
        signal,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      for (const p of this.procs) {
        if (p !== undefined && p.current === undefined) {
          this.next(p);
          break;
        }
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.resolve(errorResponse(503, 'ScorerClosed', 'the deployment was replaced'));
    const procs = this.procs.splice(0);
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((done) => {
            if (p === undefined || p.child.exitCode !== null) return done();
            p.current?.resolve(errorResponse(503, 'ScorerClosed', 'the deployment was replaced'));
            p.child.once('exit', () => done());
            p.child.stdin.end();
            setTimeout(() => p.child.kill('SIGKILL'), 2000).unref();
          }),
      ),
    );
  }
}

function looksLikeJson(text: string): boolean {
  const c = text.trimStart()[0];
  return c === '{' || c === '[';
}

function joinLogs(trace: string, output: string): string {
  return output === '' ? trace : `${trace}\n--- output ---\n${output}`;
}

/**
 * The body of one scoring-script worker thread (script-scorer.ts): imports the user's module,
 * calls its init() once, then answers each request with run(raw). The module may export init and
 * run by name or on its default export (CommonJS `module.exports = { init, run }`).
 *
 * Messages: → parent { ready: true } | { ready: false, message, stack }, then per request
 * { id, ok: true, body, json } | { id, ok: false, message, stack }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

export interface ScriptWorkerData {
  /** Absolute path of the module to import (a .js/.mjs/.cjs file). */
  modulePath: string;
}

export interface WorkerRequest {
  id: number;
  body: string;
}

export type WorkerReply =
  | { ready: true }
  | { ready: false; message: string; stack: string }
  | { id: number; ok: true; body: string; json: boolean }
  | { id: number; ok: false; message: string; stack: string };

type Entry = (...args: unknown[]) => unknown;

function describe(error: unknown): { message: string; stack: string } {
  if (error instanceof Error) return { message: error.message, stack: error.stack ?? error.message };
  return { message: String(error), stack: String(error) };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('script-worker runs only as a worker thread');
  const { modulePath } = workerData as ScriptWorkerData;
  let run: Entry;
  try {
    const mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
    const fallback = (mod['default'] ?? {}) as Record<string, unknown>;
    const init = (mod['init'] ?? fallback['init']) as Entry | undefined;
    const found = (mod['run'] ?? fallback['run']) as Entry | undefined;
    if (typeof found !== 'function') {
      throw new TypeError(
        `the scoring script exports no run() function (exports: ${Object.keys(mod).join(', ') || 'none'})`,
      );
    }
    run = found;
    if (typeof init === 'function') await init();
  } catch (error) {
    port.postMessage({ ready: false, ...describe(error) } satisfies WorkerReply);
    return;
  }
  port.on('message', (req: WorkerRequest) => {
    void (async () => {
      let reply: WorkerReply;
      try {
        const out = await run(req.body);
        reply =
          typeof out === 'string'
            ? { id: req.id, ok: true, body: out, json: false }
            : { id: req.id, ok: true, body: JSON.stringify(out) ?? 'null', json: true };
      } catch (error) {
        reply = { id: req.id, ok: false, ...describe(error) };
      }
      port.postMessage(reply);
    })();
  });
  port.postMessage({ ready: true } satisfies WorkerReply);
}

void main();

import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The compiled test app (dist/test/fixtures/durable-app) made loadable as a Functions app root. */
export function prepareFixtureApp(): string {
  const root = resolve('dist/test/fixtures/durable-app');
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'durable-fixture', type: 'module', main: 'functions/*.js' }),
  );
  writeFileSync(
    join(root, 'host.json'),
    JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: 'api' } } }),
  );
  return root;
}

export function tempDir(prefix: string): string {
  mkdirSync(resolve('.test-data'), { recursive: true });
  return mkdtempSync(join(resolve('.test-data'), `${prefix}-`));
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface DurableStatus {
  runtimeStatus: string;
  output: unknown;
  input: unknown;
  customStatus: unknown;
  historyEvents?: { EventType: string }[];
}

export function durableApi(origin: string, key: string) {
  const base = `${origin}/runtime/webhooks/durabletask`;
  return {
    async start(name: string, input?: unknown, id?: string): Promise<string> {
      const res = await fetch(`${base}/orchestrators/${name}${id ? '/' + id : ''}?code=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(input === undefined ? {} : { body: JSON.stringify(input) }),
      });
      if (res.status !== 202) throw new Error(`start ${name}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    async status(id: string, query = ''): Promise<DurableStatus | undefined> {
      const res = await fetch(`${base}/instances/${id}?code=${key}${query}`);
      if (res.status === 404) return undefined;
      return (await res.json()) as DurableStatus;
    },
    async waitDone(id: string, timeoutMs = 30_000): Promise<DurableStatus> {
      try {
        return await waitFor(
          `instance ${id} to finish`,
          async () => {
            const s = await this.status(id);
            return s && ['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus) ? s : undefined;
          },
          timeoutMs,
        );
      } catch (err) {
        const last = await this.status(id, '&showHistory=true');
        throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`);
      }
    },
    async raise(id: string, event: string, data: unknown): Promise<number> {
      const res = await fetch(`${base}/instances/${id}/raiseEvent/${event}?code=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(data),
      });
      return res.status;
    },
    async post(path: string): Promise<Response> {
      return fetch(`${base}/${path}${path.includes('?') ? '&' : '?'}code=${key}`, { method: 'POST' });
    },
    async request(method: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
      return fetch(`${base}/${path}${path.includes('?') ? '&' : '?'}code=${key}`, { method, headers });
    },
  };
}

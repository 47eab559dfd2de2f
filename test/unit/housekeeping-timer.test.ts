import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../shared/config.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { housekeepingTimer } from '../../functions/housekeeping-timer.js';
import { contextWithDurableClient } from '../support/durable-client-context.js';

const NOW = Date.UTC(2025, 2, 10, 14, 0, 3);
const DAY = 86_400_000;

/** Answers the Durable management calls the real DurableClient makes (see durable-protocol.md) and records them. */
let server: Server;
let rpcBaseUrl: string;
let existingStatus: string | undefined;
const calls: { method: string; path: string; query: URLSearchParams }[] = [];
let dataDir: string;
let services: Services;

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/durabletask\//, '');
    calls.push({ method: req.method ?? '', path, query: url.searchParams });
    req.resume();
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && path.startsWith('instances/')) {
      const id = path.slice('instances/'.length);
      if (existingStatus === undefined) return json(404, {});
      return json(existingStatus === 'Running' ? 202 : 200, {
        name: 'housekeeping',
        instanceId: id,
        runtimeStatus: existingStatus,
        input: null,
        output: null,
        customStatus: null,
        createdTime: new Date(NOW).toISOString(),
        lastUpdatedTime: new Date(NOW).toISOString(),
      });
    }
    if (req.method === 'POST' && path.startsWith('orchestrators/')) return json(202, { id: path.split('/')[2] });
    if (req.method === 'DELETE' && path === 'instances/') return json(200, { instancesDeleted: 4 });
    json(500, { error: `unexpected ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rpcBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/durabletask/`;

  dataDir = await mkdtemp(join(tmpdir(), 'tessera-timer-'));
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: dataDir, DURABLE_HISTORY_RETENTION_DAYS: '7' }), {
    clock: { now: () => NOW },
  });
  setServicesForTesting(services);
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function timerContext(logs: string[]) {
  return contextWithDurableClient({
    origin: rpcBaseUrl.replace(/\/durabletask\/$/, ''),
    invocationId: 'timer-1',
    functionName: 'housekeeping-timer',
    trigger: { type: 'timerTrigger', name: 'timer' },
    logHandler: (_level, ...args) => logs.push(args.join(' ')),
  });
}

const timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

test("starts this hour's housekeeping instance and purges finished histories older than the retention", async () => {
  calls.length = 0;
  existingStatus = undefined;
  const logs: string[] = [];
  await housekeepingTimer(timer, timerContext(logs));

  assert.deepEqual(
    calls.map((c) => `${c.method} ${c.path}`),
    [
      'GET instances/housekeeping-2025-03-10T14',
      'POST orchestrators/housekeeping/housekeeping-2025-03-10T14',
      'DELETE instances/',
    ],
  );
  const purge = calls[2]?.query;
  assert.equal(purge?.get('createdTimeTo'), new Date(NOW - 7 * DAY).toISOString());
  assert.deepEqual(purge?.get('runtimeStatus')?.split(',').sort(), ['Completed', 'Failed', 'Terminated']);
  assert.ok(
    logs.some((l) => l.includes('purged the history of 4 instance(s)')),
    logs.join('\n'),
  );
});

test('a re-fired timer does not start a second instance in the same hour', async () => {
  calls.length = 0;
  existingStatus = 'Running';
  await housekeepingTimer(timer, timerContext([]));
  assert.deepEqual(
    calls.map((c) => c.method),
    ['GET', 'DELETE'],
  );
});

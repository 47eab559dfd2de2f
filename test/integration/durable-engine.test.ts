// The local host's durable engine driving the real durable-functions library, in-process.
import '../../local/core-shim.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalHost } from '../../local/host.js';
import { createConsoleLogger } from '../../local/logger.js';
import { durableApi, prepareFixtureApp, tempDir } from '../support/fixture-app.js';

describe('durable engine (in-process host, real durable-functions)', () => {
  let host: LocalHost;
  let api: ReturnType<typeof durableApi>;

  before(async () => {
    host = await LocalHost.start({
      appRoot: prepareFixtureApp(),
      dataDir: tempDir('durable'),
      port: 0,
      bindAddress: '127.0.0.1',
      logger: createConsoleLogger('warning'),
    });
    api = durableApi(host.origin, host.systemKey);
  });
  after(async () => host.stop());

  it('fans out 200 activities and fans in their results', async () => {
    const id = await api.start('fanOut', { n: 200, sleepMs: [0, 5, 20] });
    const s = await api.waitDone(id);
    assert.equal(s.runtimeStatus, 'Completed');
    assert.deepEqual(s.output, { count: 200, sum: 199 * 200 });
  });

  it('runs a sequential chain', async () => {
    const id = await api.start('sequence', 30);
    const s = await api.waitDone(id);
    assert.equal(s.output, 29 * 30);
  });

  it('retries a failing activity with the hidden sequence numbers the library expects', async () => {
    const id = await api.start('retrying', { key: 'r1', failures: 2, attempts: 3 });
    const s = await api.waitDone(id);
    assert.deepEqual(s.output, { value: 'ok after 3', after: 42 });
  });

  it('fails the task after the last retry attempt', async () => {
    const id = await api.start('retrying', { key: 'r2', failures: 5, attempts: 2 });
    const s = await api.waitDone(id);
    assert.equal(s.runtimeStatus, 'Completed');
    assert.match(String((s.output as { failed: string }).failed), /flaky failure 2/);
  });

  it('retries a failing sub-orchestration and goes on after it', async () => {
    const id = await api.start('retryingParent', { key: 's1', failures: 2, attempts: 3 });
    const s = await api.waitDone(id);
    assert.equal(s.runtimeStatus, 'Completed');
    assert.deepEqual(s.output, { value: 'ok after 3', timerAfter: null });
    const failing = await api.waitDone(await api.start('retryingParent', { key: 's2', failures: 9, attempts: 2 }));
    assert.match(String((failing.output as { failed: string }).failed), /flaky failure 2/);
  });

  it('suspends and resumes an instance: events wait while suspended', async () => {
    const id = await api.start('approval', 60_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await api.post(`instances/${id}/suspend?reason=hold`)).status, 202);
    assert.equal((await api.status(id))?.runtimeStatus, 'Suspended');
    assert.equal(await api.raise(id, 'approve', 'later'), 202);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await api.status(id))?.runtimeStatus, 'Suspended');
    assert.equal((await api.post(`instances/${id}/resume?reason=go`)).status, 202);
    const s = await api.waitDone(id);
    assert.deepEqual(s.output, { approved: true, by: 'later' });
  });

  it('delivers an external event that wins a race against a durable timer, with custom status', async () => {
    const id = await api.start('approval', 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const waiting = await api.status(id);
    assert.deepEqual(waiting?.customStatus, { stage: 'waiting' });
    assert.equal(await api.raise(id, 'approve', { user: 'ada' }), 202);
    const s = await api.waitDone(id);
    assert.deepEqual(s.output, { approved: true, by: { user: 'ada' } });
    assert.deepEqual(s.customStatus, { stage: 'approved' });
  });

  it('fires a durable timer when no event arrives', async () => {
    const id = await api.start('approval', 150);
    const s = await api.waitDone(id);
    assert.deepEqual(s.output, { approved: false });
  });

  it('fires a timer that came due while its own episode was still running', async () => {
    const id = await api.start('slowEpisodeTimer');
    const s = await api.waitDone(id, 5000);
    assert.equal(s.output, 'fired');
  });

  it('runs sub-orchestrations, including a failing one', async () => {
    const id = await api.start('parent', 3);
    const s = await api.waitDone(id);
    assert.equal(s.runtimeStatus, 'Completed');
    const out = s.output as { sums: number[]; failedChild: string };
    assert.deepEqual(out.sums, [6, 6, 6]);
    assert.match(out.failedChild, /orchestrator failed: boom/);
  });

  it('reports an orchestrator exception as Failed with its message', async () => {
    const id = await api.start('failing', 'direct');
    const s = await api.waitDone(id);
    assert.equal(s.runtimeStatus, 'Failed');
    assert.match(String(s.output), /orchestrator failed: direct/);
  });

  it('surfaces an activity exception inside the orchestrator', async () => {
    const id = await api.start('catching');
    const s = await api.waitDone(id);
    assert.match(String(s.output), /caught: .*exploded with kaboom/);
  });

  it('continues as new until done', async () => {
    const id = await api.start('counter', 0);
    const s = await api.waitDone(id);
    assert.equal(s.runtimeStatus, 'Completed');
    assert.equal(s.output, 3);
  });

  it('terminates a waiting instance and rejects events afterwards', async () => {
    const id = await api.start('approval', 60_000);
    await new Promise((r) => setTimeout(r, 50));
    const res = await api.post(`instances/${id}/terminate?reason=stop`);
    assert.equal(res.status, 202);
    const s = await api.waitDone(id);
    assert.equal(s.runtimeStatus, 'Terminated');
    assert.equal(s.output, 'stop');
    assert.equal(await api.raise(id, 'approve', {}), 410);
  });

  it('refuses a second start of a running instance id with 409 and an unknown orchestrator with 400', async () => {
    await api.start('approval', 60_000, 'fixed-id-1');
    const again = await fetch(
      `${host.origin}/runtime/webhooks/durabletask/orchestrators/approval/fixed-id-1?code=${host.systemKey}`,
      { method: 'POST' },
    );
    assert.equal(again.status, 409);
    const unknown = await fetch(
      `${host.origin}/runtime/webhooks/durabletask/orchestrators/nope?code=${host.systemKey}`,
      { method: 'POST' },
    );
    assert.equal(unknown.status, 400);
    await api.post('instances/fixed-id-1/terminate?reason=cleanup');
  });

  it('lists instances with status and time filters and continuation, shows history, and purges', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await api.start('sequence', 1));
    for (const id of ids) await api.waitDone(id);
    const seen = new Set<string>();
    let token: string | null = null;
    let pages = 0;
    do {
      const res: Response = await api.request(
        'GET',
        `instances/?runtimeStatus=Completed&createdTimeFrom=${from}&top=2`,
        token ? { 'x-ms-continuation-token': token } : {},
      );
      assert.equal(res.status, 200);
      for (const s of (await res.json()) as { instanceId: string }[]) seen.add(s.instanceId);
      token = res.headers.get('x-ms-continuation-token');
      pages++;
    } while (token);
    for (const id of ids) assert.ok(seen.has(id), `listing misses ${id}`);
    assert.ok(pages >= 3);
    const withHistory = await api.status(ids[0] as string, '&showHistory=true&showHistoryOutput=true');
    assert.ok(withHistory?.historyEvents?.some((e) => e.EventType === 'TaskCompleted'));
    const purge = await api.request('DELETE', `instances/${ids[0]}`);
    assert.equal(purge.status, 200);
    assert.equal(await api.status(ids[0] as string), undefined);
    const bad = await api.request('GET', 'instances/?runtimeStatus=Bogus');
    assert.equal(bad.status, 400);
    const first = await api.request('GET', `instances/?runtimeStatus=Completed&createdTimeFrom=${from}&top=1`);
    const tokenOfOtherListing = first.headers.get('x-ms-continuation-token') ?? '';
    const other = await api.request('GET', 'instances/?runtimeStatus=Failed&top=1', {
      'x-ms-continuation-token': tokenOfOtherListing,
    });
    assert.equal(other.status, 400);
    const garbage = await api.request('GET', 'instances/', { 'x-ms-continuation-token': 'garbage' });
    assert.equal(garbage.status, 400);
  });

  it('lets an HTTP function use df.getClient unchanged', async () => {
    const res = await fetch(`${host.origin}/api/orchestrators/sequence`, { method: 'POST', body: '4' });
    assert.equal(res.status, 202);
    const links = (await res.json()) as { id: string; statusQueryGetUri: string };
    assert.ok(links.statusQueryGetUri.startsWith(host.origin));
    await api.waitDone(links.id);
    const status = await fetch(`${host.origin}/api/status/${links.id}`);
    assert.deepEqual(await status.json(), { runtimeStatus: 'Completed', output: 12, customStatus: null });
  });

  it('rejects the management API without the system key', async () => {
    const res = await fetch(`${host.origin}/runtime/webhooks/durabletask/instances/`);
    assert.equal(res.status, 401);
  });
});

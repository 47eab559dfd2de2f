// Kill -9 the host in the middle of a fan-out; the restarted host finishes it correctly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { durableApi, prepareFixtureApp, tempDir, waitFor } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';

describe('crash recovery', () => {
  it('completes a 50-activity fan-out after SIGKILL and restart', async () => {
    const appRoot = prepareFixtureApp();
    const dataDir = tempDir('crash');
    const first = await startHostProcess({ dataDir, appRoot });
    let second;
    try {
      const api1 = durableApi(first.origin, first.systemKey);
      // a third of the activities finish at once, a third after 0.3 s, a third after 2 s
      const id = await api1.start('fanOut', { n: 50, sleepMs: [0, 300, 2000] }, 'crash-fanout');
      await waitFor('some activities to complete', async () => {
        const s = await api1.status(id, '&showHistory=true');
        const done = s?.historyEvents?.filter((e) => e.EventType === 'TaskCompleted').length ?? 0;
        return done >= 10 ? done : undefined;
      });
      const before = await api1.status(id);
      assert.equal(before?.runtimeStatus, 'Running', 'the fan-out must still be in flight when the host is killed');
      const code = await first.stop('SIGKILL');
      assert.equal(code, null);

      second = await startHostProcess({ dataDir, appRoot });
      const api2 = durableApi(second.origin, second.systemKey);
      const s = await api2.waitDone(id, 30_000);
      assert.equal(s.runtimeStatus, 'Completed', second.output());
      assert.deepEqual(s.output, { count: 50, sum: 49 * 50 });
    } finally {
      await first.stop('SIGKILL');
      await second?.stop('SIGTERM');
    }
  });

  it('keeps a durable timer across a restart', async () => {
    const appRoot = prepareFixtureApp();
    const dataDir = tempDir('crash-timer');
    const first = await startHostProcess({ dataDir, appRoot });
    let second;
    try {
      const api1 = durableApi(first.origin, first.systemKey);
      const id = await api1.start('sleeper', 1500);
      await waitFor('the timer to be created', async () =>
        (await api1.status(id))?.runtimeStatus === 'Running' ? true : undefined,
      );
      await first.stop('SIGKILL');
      second = await startHostProcess({ dataDir, appRoot });
      const s = await durableApi(second.origin, second.systemKey).waitDone(id, 15_000);
      assert.equal(s.output, 'woke');
    } finally {
      await first.stop('SIGKILL');
      await second?.stop('SIGTERM');
    }
  });
});

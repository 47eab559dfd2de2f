// The services' queries run on Cosmos DB with the composite indexes the wiring declares
// (COSMOS_ORDERINGS), against @vercel/cosmosdb-server started in-process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CosmosMetadataStore } from '../../shared/adapters/cosmos-metadata-store.js';
import { CosmosTrackingStore } from '../../shared/adapters/cosmos-tracking-store.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { COSMOS_ORDERINGS } from '../../shared/wiring.js';
import { createTokenService } from '../../shared/services/token-service.js';
import { createTrackingService } from '../../shared/services/tracking-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';
import { startCosmosEmulator } from '../support/cosmos-emulator.js';
import type { CosmosEmulator } from '../support/cosmos-emulator.js';

describe('services on the Cosmos DB adapter', () => {
  let emulator: CosmosEmulator;
  let store: CosmosMetadataStore;
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => (now += 1000) };

  before(async () => {
    emulator = await startCosmosEmulator();
    store = new CosmosMetadataStore({ client: emulator.client(), database: 'services', orderings: COSMOS_ORDERINGS });
  });
  after(async () => {
    await store.close();
    await emulator.stop();
  });

  it('lists workspaces by name, page by page', async () => {
    const workspaces = createWorkspaceService({ store, clock });
    for (const name of ['zeta', 'alpha', 'mid']) await workspaces.put(name, {});
    await workspaces.ensureDefault();
    const first = await workspaces.list({ limit: 2 });
    assert.deepEqual(
      first.value.map((w) => w.name),
      ['alpha', 'default'],
    );
    assert.ok(first.continuation);
    const second = await workspaces.list({ limit: 2, continuation: first.continuation });
    assert.deepEqual(
      second.value.map((w) => w.name),
      ['mid', 'zeta'],
    );
  });

  it('lists tokens newest first and verifies them', async () => {
    const tokens = createTokenService({ store, clock, defaultTtlDays: 90 });
    const a = await tokens.create({ workspaces: ['alpha'], description: 'a' });
    const b = await tokens.create({ workspaces: ['*'], description: 'b' });
    const listed = await tokens.list();
    assert.deepEqual(listed.value.map((t) => t.id).slice(0, 2), [b.id, a.id]);
    assert.ok(await tokens.verify(a.token));
  });

  it('tracks MLflow experiments and runs: log batches, search with filters and orders, page, read history', async () => {
    const workspaces = createWorkspaceService({ store, clock });
    await workspaces.put('mlteam', {});
    // The orderings wiring declares are the ones the tracking store's queries need.
    const trackingStore = new CosmosTrackingStore({
      client: emulator.client(),
      database: 'services',
      orderings: COSMOS_ORDERINGS,
    });
    try {
      const tracking = createTrackingService({
        store: trackingStore,
        clock,
        requireWorkspace: (ws) => workspaces.get(ws),
      });
      const { experiment_id } = await tracking.createExperiment('mlteam', {
        name: 'cosmos-exp',
        tags: [{ key: 'team', value: 'vision' }],
      });
      assert.equal(experiment_id, '1');
      assert.equal((await tracking.getExperimentByName('mlteam', 'cosmos-exp')).experiment.experiment_id, '1');
      assert.deepEqual(
        (await tracking.searchExperiments('mlteam', { filter: "tags.team = 'vision'" })).experiments.map((e) => e.name),
        ['cosmos-exp'],
      );

      const runIds: string[] = [];
      for (const [i, model] of ['cnn', 'rnn', 'cnn', 'mlp'].entries()) {
        const { run } = await tracking.createRun('mlteam', {
          experiment_id,
          run_name: `run-${i}`,
          start_time: 1000 + i,
        });
        runIds.push(run.info.run_id);
        await tracking.logBatch('mlteam', {
          run_id: run.info.run_id,
          metrics: [
            { key: 'acc', value: 0.1, timestamp: 1, step: 0 },
            { key: 'acc', value: i / 4, timestamp: 2, step: 1 },
          ],
          params: [{ key: 'model', value: model }],
          tags: [{ key: 'stage', value: i < 2 ? 'dev' : 'prod' }],
        });
        if (i % 2 === 0)
          await tracking.updateRun('mlteam', { run_id: run.info.run_id, status: 'FINISHED', end_time: 2000 - i });
      }
      await assert.rejects(
        tracking.logParam('mlteam', { run_id: runIds[0], key: 'model', value: 'other' }),
        (err: unknown) => err instanceof ValidationError && /Changing param values is not allowed/.test(err.message),
      );

      const names = async (req: Parameters<typeof tracking.searchRuns>[1]) =>
        (await tracking.searchRuns('mlteam', { experiment_ids: [experiment_id], ...req })).runs.map(
          (r) => r.info.run_name,
        );
      assert.deepEqual(await names({}), ['run-3', 'run-2', 'run-1', 'run-0']);
      assert.deepEqual(await names({ filter: "metrics.acc >= 0.25 and params.model = 'cnn'" }), ['run-2']);
      assert.deepEqual(await names({ filter: "tags.stage = 'prod'", order_by: ['metrics.acc ASC'] }), [
        'run-2',
        'run-3',
      ]);
      assert.deepEqual(await names({ order_by: ['params.model DESC'] }), ['run-1', 'run-3', 'run-2', 'run-0']);
      assert.deepEqual(await names({ order_by: ['attributes.end_time ASC'] }), ['run-2', 'run-0', 'run-3', 'run-1']);
      assert.deepEqual(
        await names({ filter: "attributes.status = 'FINISHED'", order_by: ['attributes.run_name DESC'] }),
        ['run-2', 'run-0'],
      );

      const paged: string[] = [];
      let token: string | undefined;
      do {
        const page = await tracking.searchRuns('mlteam', {
          experiment_ids: [experiment_id],
          order_by: ['metrics.acc DESC'],
          max_results: 3,
          ...(token === undefined ? {} : { page_token: token }),
        });
        paged.push(...page.runs.map((r) => r.info.run_name));
        token = page.next_page_token;
      } while (token !== undefined);
      assert.deepEqual(paged, ['run-3', 'run-2', 'run-1', 'run-0']);

      const { run } = await tracking.getRun('mlteam', runIds[3] ?? '');
      assert.deepEqual(run.data.metrics, [{ key: 'acc', value: 0.75, timestamp: 2, step: 1 }]);
      const first = await tracking.metricHistory('mlteam', { run_id: runIds[3], metric_key: 'acc', max_results: 1 });
      assert.deepEqual(first.metrics, [{ key: 'acc', value: 0.1, timestamp: 1, step: 0 }]);
      assert.ok(first.next_page_token);
      const second = await tracking.metricHistory('mlteam', {
        run_id: runIds[3],
        metric_key: 'acc',
        max_results: 1,
        page_token: first.next_page_token,
      });
      assert.deepEqual(second.metrics, [{ key: 'acc', value: 0.75, timestamp: 2, step: 1 }]);
      assert.equal(second.next_page_token, undefined);

      await assert.rejects(tracking.getRun('mlteam', 'no-such-run'), NotFoundError);
      await assert.rejects(tracking.createExperiment('no-such-workspace', { name: 'x' }), NotFoundError);
    } finally {
      await trackingStore.close();
    }
  });
});

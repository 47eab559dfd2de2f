// Logged models and run inputs on the Cosmos DB adapter, with the composite indexes the wiring
// declares (COSMOS_ORDERINGS), against @vercel/cosmosdb-server started in-process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CosmosMetadataStore } from '../../shared/adapters/cosmos-metadata-store.js';
import { NotFoundError } from '../../shared/errors.js';
import { createLoggedModelService } from '../../shared/services/logged-model-service.js';
import { createRunInputsStore } from '../../shared/services/mlflow-run-inputs.js';
import { COSMOS_ORDERINGS } from '../../shared/wiring.js';
import { startCosmosEmulator } from '../support/cosmos-emulator.js';
import type { CosmosEmulator } from '../support/cosmos-emulator.js';

describe('MLflow logged models and run inputs on the Cosmos DB adapter', () => {
  let emulator: CosmosEmulator;
  let store: CosmosMetadataStore;
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => (now += 1000) };

  before(async () => {
    emulator = await startCosmosEmulator();
    store = new CosmosMetadataStore({ client: emulator.client(), database: 'mlflow', orderings: COSMOS_ORDERINGS });
  });
  after(async () => {
    await store.close();
    await emulator.stop();
  });

  it('searches logged models newest first, filtered and page by page', async () => {
    let seq = 0;
    const models = createLoggedModelService({
      store,
      clock,
      // Ordered ids: ties of the name order are broken by id.
      newId: () => `m-${String(++seq).padStart(32, '0')}`,
      getExperiment: (_ws, id) =>
        id === '404'
          ? Promise.reject(new NotFoundError('no experiment'))
          : Promise.resolve({
              lifecycle_stage: 'active',
              artifact_location: `mlflow-artifacts:/workspaces/ws/experiments/${id}`,
            }),
    });
    const ids: string[] = [];
    for (const [experiment_id, name] of [
      ['1', 'a'],
      ['1', 'b'],
      ['2', 'a'],
    ] as const) {
      ids.push((await models.createLoggedModel('ws', { experiment_id, name })).model.info.model_id);
    }
    const [a1, b1, a2] = ids;
    const found = (r: { models: { info: { model_id: string } }[] }) => r.models.map((m) => m.info.model_id);
    assert.deepEqual(found(await models.searchLoggedModels('ws', {})), [a2, b1, a1]);
    assert.deepEqual(found(await models.searchLoggedModels('ws', { experiment_ids: ['1'] })), [b1, a1]);
    assert.deepEqual(found(await models.searchLoggedModels('ws', { filter: "name = 'a'" })), [a2, a1]);
    assert.deepEqual(
      found(await models.searchLoggedModels('ws', { order_by: [{ field_name: 'name', ascending: false }] })),
      [b1, a1, a2],
    );
    const first = await models.searchLoggedModels('ws', { max_results: 2 });
    assert.deepEqual(found(first), [a2, b1]);
    assert.ok(first.next_page_token);
    const rest = await models.searchLoggedModels('ws', { max_results: 2, page_token: first.next_page_token });
    assert.deepEqual(found(rest), [a1]);
    assert.equal(rest.next_page_token, undefined);

    await models.finalizeLoggedModel('ws', a1 ?? '', 'LOGGED_MODEL_READY');
    await models.deleteLoggedModel('ws', b1 ?? '');
    assert.deepEqual(found(await models.searchLoggedModels('ws', { filter: "status = 'READY'" })), [a1]);
    assert.deepEqual(found(await models.searchLoggedModels('ws', { experiment_ids: ['1'] })), [a1]);
  });

  it('reads the inputs of many runs at once', async () => {
    const inputs = createRunInputsStore({ store });
    const dataset = { name: 'iris', digest: 'd1', source_type: 'local', source: '{}' };
    await inputs.add('ws', 'run-1', { datasetInputs: [{ tags: [], dataset }] });
    await inputs.add('ws', 'run-1', { datasetInputs: [{ tags: [{ key: 'k', value: 'v' }], dataset }] });
    await inputs.add('ws', 'run-2', { modelOutputs: [{ model_id: 'm-1', step: 3 }] });
    await inputs.add('other', 'run-3', { modelInputs: [{ model_id: 'm-2' }] });
    const many = await inputs.getMany('ws', ['run-1', 'run-2', 'run-3']);
    assert.deepEqual([...many.keys()].sort(), ['run-1', 'run-2']);
    assert.deepEqual(many.get('run-1')?.datasetInputs, [{ tags: [], dataset }]);
    assert.deepEqual(many.get('run-2')?.modelOutputs, [{ model_id: 'm-1', step: 3 }]);
    assert.equal(await inputs.get('ws', 'run-3'), undefined);
  });
});

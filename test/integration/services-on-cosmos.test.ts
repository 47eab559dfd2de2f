// The services' queries run on Cosmos DB with the composite indexes the wiring declares
// (COSMOS_ORDERINGS), against @vercel/cosmosdb-server started in-process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CosmosMetadataStore } from '../../shared/adapters/cosmos-metadata-store.js';
import { COSMOS_ORDERINGS } from '../../shared/wiring.js';
import { createTokenService } from '../../shared/services/token-service.js';
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
});

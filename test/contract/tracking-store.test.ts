import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTrackingStore } from '../../shared/adapters/sqlite-tracking-store.js';
import { CosmosTrackingStore } from '../../shared/adapters/cosmos-tracking-store.js';
import { TRACKING_COSMOS_ORDERINGS } from '../../shared/contracts/tracking-documents.js';
import { startCosmosEmulator } from '../support/cosmos-emulator.js';
import { trackingStoreContract } from './tracking-store.contract.js';

trackingStoreContract('SqliteTrackingStore (temp file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-tracking-'));
  const store = SqliteTrackingStore.open(join(dir, 'tracking.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

trackingStoreContract('CosmosTrackingStore (@vercel/cosmosdb-server)', async () => {
  const emulator = await startCosmosEmulator();
  const store = new CosmosTrackingStore({
    client: emulator.client(),
    database: 'tessera-tracking-contract',
    orderings: TRACKING_COSMOS_ORDERINGS,
  });
  return {
    store,
    async cleanup() {
      await store.close();
      await emulator.stop();
    },
  };
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { CosmosMetadataStore } from '../../shared/adapters/cosmos-metadata-store.js';
import { METADATA_CONTRACT_ORDERINGS, metadataStoreContract } from './metadata-store.contract.js';
import { startCosmosEmulator } from '../support/cosmos-emulator.js';

metadataStoreContract('SqliteMetadataStore (temp file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-meta-'));
  const store = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

metadataStoreContract('CosmosMetadataStore (@vercel/cosmosdb-server)', async () => {
  const emulator = await startCosmosEmulator();
  const store = new CosmosMetadataStore({
    client: emulator.client(),
    database: 'tessera-contract',
    orderings: { '*': METADATA_CONTRACT_ORDERINGS },
  });
  return {
    store,
    async cleanup() {
      await store.close();
      await emulator.stop();
    },
  };
});

describe('SqliteMetadataStore specifics', () => {
  it('a second store on the same file sees committed documents', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-meta-'));
    try {
      const file = join(dir, 'm.db');
      const a = SqliteMetadataStore.open(file);
      const b = SqliteMetadataStore.open(file);
      const created = await (await a.container('jobs')).create({ id: 'j1', pk: 'ws', status: 'Queued' });
      const seen = await (await b.container('jobs')).read('ws', 'j1');
      assert.deepEqual(seen, created);
      await a.close();
      await b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CosmosMetadataStore specifics', () => {
  it('an ordering without a composite index fails with a ValidationError that says what to declare', async () => {
    const emulator = await startCosmosEmulator();
    try {
      const store = new CosmosMetadataStore({ client: emulator.client(), database: 'no-indexes' });
      const c = await store.container('jobs');
      await c.create({ id: 'a', pk: 'ws', createdAt: 1 });
      await assert.rejects(c.query({ orderBy: [{ path: 'createdAt', direction: 'desc' }] }), (err: unknown) => {
        assert.match(String((err as Error).message), /composite index/);
        assert.match(String((err as Error).message), /orderings\["jobs"\]/);
        assert.equal((err as { code?: string }).code, 'ValidationError');
        return true;
      });
      // Ordering by id alone needs no composite index.
      assert.deepEqual(
        (await c.query({ orderBy: [{ path: 'id' }] })).items.map((d) => d.id),
        ['a'],
      );
    } finally {
      await emulator.stop();
    }
  });

  it('fromConfig refuses a configuration with neither key nor credential', () => {
    assert.throws(
      () => CosmosMetadataStore.fromConfig({ endpoint: 'https://127.0.0.1:1', database: 'x' }),
      /key or a credential/,
    );
  });
});

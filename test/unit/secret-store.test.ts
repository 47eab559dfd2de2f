import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import {
  LocalSecretStore,
  SECRETS_CONTAINER,
  loadOrCreateSecretKey,
} from '../../shared/adapters/local-secret-store.js';
import {
  KeyVaultSecretStore,
  createMissingKeyVaultSecretStore,
  toVaultSecretName,
} from '../../shared/adapters/key-vault-secret-store.js';
import { ConfigError, TransientError, ValidationError, isAppError } from '../../shared/errors.js';
import type { SecretStore } from '../../shared/ports/secret-store.js';
import type { StoredDocument } from '../../shared/ports/metadata-store.js';
import { FakeSecretClient } from '../support/key-vault-fake.js';

/** The behaviour every SecretStore adapter must have. */
function secretStoreContract(name: string, open: () => Promise<{ secrets: SecretStore; cleanup(): Promise<void> }>) {
  describe(`SecretStore contract: ${name}`, () => {
    let secrets: SecretStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ secrets, cleanup } = await open());
    });
    after(async () => cleanup());

    it('returns undefined for a secret that was never stored', async () => {
      assert.equal(await secrets.get('datastore--ws--never'), undefined);
    });

    it('stores, replaces and deletes a value', async () => {
      const name = 'datastore--team-a--blob_example';
      await secrets.put(name, '{"credentials.account_key":"k1"}');
      assert.equal(await secrets.get(name), '{"credentials.account_key":"k1"}');
      await secrets.put(name, '{"credentials.account_key":"k2"}');
      assert.equal(await secrets.get(name), '{"credentials.account_key":"k2"}');
      await secrets.delete(name);
      assert.equal(await secrets.get(name), undefined);
    });

    it('stores again under a deleted name', async () => {
      const name = 'datastore--team-a--again';
      await secrets.put(name, 'first');
      await secrets.delete(name);
      await secrets.put(name, 'second');
      assert.equal(await secrets.get(name), 'second');
    });

    it('deleting a missing secret is not an error', async () => {
      await secrets.delete('datastore--ws--missing');
    });

    it('keeps names that differ only in case or in _ versus - apart', async () => {
      await secrets.put('datastore--Team--x', 'upper');
      await secrets.put('datastore--team--x', 'lower');
      await secrets.put('datastore--team--a_b', 'underscore');
      await secrets.put('datastore--team--a-b', 'dash');
      assert.equal(await secrets.get('datastore--Team--x'), 'upper');
      assert.equal(await secrets.get('datastore--team--x'), 'lower');
      assert.equal(await secrets.get('datastore--team--a_b'), 'underscore');
      assert.equal(await secrets.get('datastore--team--a-b'), 'dash');
    });

    it('keeps any text exactly: unicode, empty, large', async () => {
      const values = ['', 'pässwörd ✓ 🔑', 'x'.repeat(20_000)];
      for (const [i, value] of values.entries()) {
        await secrets.put(`compute--ws--v${i}`, value);
        assert.equal(await secrets.get(`compute--ws--v${i}`), value);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// LocalSecretStore
// ---------------------------------------------------------------------------------------------

async function openLocal(dir: string, keyFile = join(dir, 'keys', 'secrets.key')) {
  const store = await SqliteMetadataStore.open(join(dir, 'metadata.db'));
  const secrets = await LocalSecretStore.open({ store, keyFile });
  return { store, secrets };
}

secretStoreContract('LocalSecretStore (SQLite)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-secrets-'));
  const { store, secrets } = await openLocal(dir);
  return {
    secrets,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('LocalSecretStore', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-local-secrets-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('creates a 32-byte key file with mode 0600 in a 0700 folder, outside the database', async () => {
    const sub = join(dir, 'key-mode');
    const { store } = await openLocal(sub);
    await store.close();
    const key = await stat(join(sub, 'keys', 'secrets.key'));
    assert.equal(key.size, 32);
    if (process.platform !== 'win32') {
      assert.equal(key.mode & 0o777, 0o600);
      assert.equal((await stat(join(sub, 'keys'))).mode & 0o777, 0o700);
    }
  });

  it('never writes the plaintext or the key to the database files', async () => {
    const sub = join(dir, 'at-rest');
    const plaintext = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq-PLAINTEXT-MARKER';
    const { store, secrets } = await openLocal(sub);
    await secrets.put('datastore--ws--blob', plaintext);
    assert.equal(await secrets.get('datastore--ws--blob'), plaintext);
    const key = await readFile(join(sub, 'keys', 'secrets.key'));
    // Read every file of the database (main file, WAL, shared memory) while it is open, then after close.
    const scan = async () => {
      const files = (await readdir(sub)).filter((f) => f.startsWith('metadata.db'));
      assert.ok(files.length > 0);
      for (const file of files) {
        const bytes = await readFile(join(sub, file));
        assert.equal(bytes.includes(Buffer.from(plaintext)), false, `${file} holds the plaintext`);
        assert.equal(bytes.includes(Buffer.from(plaintext.slice(0, 24))), false, `${file} holds part of it`);
        assert.equal(bytes.includes(key), false, `${file} holds the key`);
        assert.equal(bytes.includes(Buffer.from(key.toString('base64'))), false, `${file} holds the key (base64)`);
      }
    };
    await scan();
    await store.close();
    await scan();
  });

  it('reads the value back after a restart with the same key file', async () => {
    const sub = join(dir, 'restart');
    const first = await openLocal(sub);
    await first.secrets.put('datastore--ws--s', 'persisted');
    await first.store.close();
    const second = await openLocal(sub);
    assert.equal(await second.secrets.get('datastore--ws--s'), 'persisted');
    await second.store.close();
  });

  it('refuses to decrypt with another key, naming the key file', async () => {
    const sub = join(dir, 'other-key');
    const first = await openLocal(sub);
    await first.secrets.put('datastore--ws--s', 'value');
    await first.store.close();
    const other = await openLocal(sub, join(sub, 'keys', 'other.key'));
    await assert.rejects(other.secrets.get('datastore--ws--s'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /encrypted with another key/);
      assert.match(err.message, /other\.key/);
      return true;
    });
    await other.store.close();
  });

  it('detects a tampered value and a value moved to another name', async () => {
    const sub = join(dir, 'tamper');
    const { store, secrets } = await openLocal(sub);
    await secrets.put('datastore--ws--a', 'alpha');
    const container = await store.container(SECRETS_CONTAINER);
    const doc = await container.read<StoredDocument>('datastore--ws--a', 'datastore--ws--a');
    assert.ok(doc);
    const { _etag, _ts, ...body } = doc;
    void _etag;
    void _ts;
    // The same ciphertext under another name fails: the name is authenticated data.
    await container.upsert({ ...body, id: 'datastore--ws--b', pk: 'datastore--ws--b' });
    await assert.rejects(secrets.get('datastore--ws--b'), /failed its integrity check/);
    // A flipped ciphertext byte fails.
    const ciphertext = Buffer.from(String(body.ciphertext), 'base64');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 0xff;
    await container.upsert({ ...body, ciphertext: ciphertext.toString('base64') });
    await assert.rejects(secrets.get('datastore--ws--a'), /failed its integrity check/);
    await store.close();
  });

  it('rejects a stored document that is not a secret document', async () => {
    const sub = join(dir, 'bad-doc');
    const { store, secrets } = await openLocal(sub);
    const container = await store.container(SECRETS_CONTAINER);
    await container.upsert({ id: 'datastore--ws--x', pk: 'datastore--ws--x', kind: 'secret', schemaVersion: 2 });
    await assert.rejects(secrets.get('datastore--ws--x'), ConfigError);
    await store.close();
  });

  it('rejects names that are not secret names', async () => {
    const { store, secrets } = await openLocal(join(dir, 'names'));
    for (const bad of ['', 'a/b', '../x', 'x'.repeat(251), '-lead']) {
      await assert.rejects(secrets.put(bad, 'v'), ValidationError, bad);
    }
    await store.close();
  });

  it('agrees on one key when first starts race, and refuses a key file of the wrong size', async () => {
    const file = join(dir, 'race', 'keys', 'secrets.key');
    const keys = await Promise.all(Array.from({ length: 8 }, async () => loadOrCreateSecretKey(file)));
    for (const key of keys) assert.deepEqual(key, keys[0]);
    const short = join(dir, 'short.key');
    await writeFile(short, Buffer.alloc(16));
    assert.throws(
      () => loadOrCreateSecretKey(short),
      (err: unknown) => isAppError(err) && err.code === 'ConfigError' && /16 bytes instead of 32/.test(err.message),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// KeyVaultSecretStore, against an in-process fake of SecretClient (see test/support/key-vault-fake.ts)
// ---------------------------------------------------------------------------------------------

secretStoreContract('KeyVaultSecretStore (fake SecretClient)', async () => ({
  secrets: new KeyVaultSecretStore(new FakeSecretClient()),
  cleanup: async () => undefined,
}));

describe('KeyVaultSecretStore', () => {
  it('keeps valid vault names and maps the others to distinct valid ones', () => {
    assert.equal(toVaultSecretName('datastore--team-a--blob1'), 'datastore--team-a--blob1');
    const mapped = [
      'datastore--team-a--blob_example',
      'datastore--Team-a--blob-example',
      'datastore--team-a--blob-example_',
      'datastore--team_a--blob.example',
      `datastore--${'w'.repeat(33)}--${'n'.repeat(160)}`,
    ].map(toVaultSecretName);
    for (const name of mapped) assert.match(name, /^[a-z0-9-]{1,127}$/);
    assert.equal(new Set(mapped.map((n) => n.toLowerCase())).size, mapped.length);
    assert.match(mapped[0] ?? '', /^datastore--team-a--blob-example-[0-9a-f]{16}$/);
  });

  it('calls the vault with mapped names and JSON content type', async () => {
    const client = new FakeSecretClient();
    const secrets = new KeyVaultSecretStore(client);
    await secrets.put('datastore--ws_1--blob_example', '{"a":"b"}');
    assert.deepEqual(client.names().live, [toVaultSecretName('datastore--ws_1--blob_example')]);
    assert.ok(client.calls.every((c) => /^[a-z0-9-]+$/.test(c.name)));
  });

  it('recovers a soft-deleted secret before writing its new value', async () => {
    const client = new FakeSecretClient();
    const secrets = new KeyVaultSecretStore(client);
    await secrets.put('datastore--ws--s', 'old');
    await secrets.delete('datastore--ws--s');
    assert.deepEqual(client.names(), { live: [], deleted: ['datastore--ws--s'] });
    await secrets.put('datastore--ws--s', 'new');
    assert.equal(await secrets.get('datastore--ws--s'), 'new');
    assert.deepEqual(
      client.calls.map((c) => c.op),
      ['setSecret', 'beginDeleteSecret', 'setSecret', 'beginRecoverDeletedSecret', 'setSecret', 'getSecret'],
    );
  });

  it('retries throttling and outages, then gives up with a TransientError', async () => {
    const client = new FakeSecretClient();
    const secrets = new KeyVaultSecretStore(client, { retryDelayMs: 1 });
    client.failNext('setSecret', 429, 'Throttled');
    client.failNext('setSecret', 503, 'ServiceUnavailable');
    await secrets.put('datastore--ws--t', 'v');
    assert.equal(await secrets.get('datastore--ws--t'), 'v');
    for (let i = 0; i < 4; i++) client.failNext('getSecret', 500, 'InternalServerError');
    await assert.rejects(secrets.get('datastore--ws--t'), TransientError);
  });

  it('turns a refused role into a ConfigError naming KEY_VAULT_URL and the role', async () => {
    const client = new FakeSecretClient();
    client.failNext('getSecret', 403, 'Forbidden');
    await assert.rejects(new KeyVaultSecretStore(client).get('datastore--ws--x'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.target, 'KEY_VAULT_URL');
      assert.match(err.message, /Key Vault Secrets Officer/);
      return true;
    });
  });

  it('passes other errors through unchanged', async () => {
    const client = new FakeSecretClient();
    client.failNext('setSecret', 400, 'BadParameter');
    await assert.rejects(new KeyVaultSecretStore(client).put('datastore--ws--x', 'v'), /Injected BadParameter/);
  });
});

describe('secret store on Azure without KEY_VAULT_URL', () => {
  it('refuses to store, naming KEY_VAULT_URL; finds nothing; deletes nothing', async () => {
    const secrets = createMissingKeyVaultSecretStore();
    await assert.rejects(secrets.put('datastore--ws--x', 'v'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.target, 'KEY_VAULT_URL');
      assert.match(err.message, /KEY_VAULT_URL is not set/);
      return true;
    });
    assert.equal(await secrets.get('datastore--ws--x'), undefined);
    await secrets.delete('datastore--ws--x');
  });
});

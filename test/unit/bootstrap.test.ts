import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { bootstrapEmbedded, credentialsFileSchema } from '../../shared/services/bootstrap.js';
import { createTokenService } from '../../shared/services/token-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';

async function withDataDir(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-bootstrap-'));
  try {
    await fn(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function servicesOn(file: string) {
  const store = SqliteMetadataStore.open(file);
  const clock = { now: () => Date.now() };
  return {
    store,
    workspaces: createWorkspaceService({ store, clock }),
    tokens: createTokenService({ store, clock, defaultTtlDays: 90 }),
  };
}

test('first start creates the default workspace and an admin token in credentials.json (0600)', async () => {
  await withDataDir(async (dataDir) => {
    const services = servicesOn(join(dataDir, 'metadata.db'));
    const first = await bootstrapEmbedded({ services, dataDir, endpoint: 'http://127.0.0.1:7071' });
    assert.equal(first.created, true);
    assert.equal(first.credentialsPath, join(dataDir, 'credentials.json'));
    const credentials = credentialsFileSchema.parse(JSON.parse(await readFile(first.credentialsPath, 'utf8')));
    assert.equal(credentials.endpoint, 'http://127.0.0.1:7071');
    assert.equal(credentials.workspace, 'default');
    assert.equal((await services.tokens.verify(credentials.token))?.workspaces, '*');
    assert.equal((await services.tokens.verify(credentials.token))?.tokenId, credentials.tokenId);
    if (process.platform !== 'win32') assert.equal((await stat(first.credentialsPath)).mode & 0o777, 0o600);
    assert.equal((await services.workspaces.get('default')).name, 'default');
    assert.deepEqual(
      (await readdir(dataDir)).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary files left',
    );

    const second = await bootstrapEmbedded({ services, dataDir, endpoint: 'http://127.0.0.1:8080' });
    assert.equal(second.created, false);
    const after = credentialsFileSchema.parse(JSON.parse(await readFile(first.credentialsPath, 'utf8')));
    assert.equal(after.token, credentials.token, 'a working token is kept');
    assert.equal(after.endpoint, 'http://127.0.0.1:8080', 'the endpoint follows the host');
    await services.store.close();
  });
});

test('a token that no longer works is replaced, so the owner is never locked out', async () => {
  await withDataDir(async (dataDir) => {
    const services = servicesOn(join(dataDir, 'metadata.db'));
    await bootstrapEmbedded({ services, dataDir, endpoint: 'http://127.0.0.1:7071' });
    const path = join(dataDir, 'credentials.json');
    const original = credentialsFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
    await services.tokens.revoke(original.tokenId);
    assert.equal((await bootstrapEmbedded({ services, dataDir, endpoint: 'http://127.0.0.1:7071' })).created, true);
    const replaced = credentialsFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
    assert.notEqual(replaced.token, original.token);
    assert.ok(await services.tokens.verify(replaced.token));

    await writeFile(path, 'not json');
    assert.equal((await bootstrapEmbedded({ services, dataDir, endpoint: 'http://127.0.0.1:7071' })).created, true);
    await services.store.close();
  });
});

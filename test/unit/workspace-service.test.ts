import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { NotFoundError, PreconditionFailedError, ValidationError } from '../../shared/errors.js';
import { WORKSPACES_CONTAINER } from '../../shared/contracts/workspace.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';

function setup(start = Date.UTC(2025, 0, 1)) {
  const store = SqliteMetadataStore.open(':memory:');
  const clock = {
    t: start,
    now() {
      return this.t;
    },
  };
  return { store, clock, workspaces: createWorkspaceService({ store, clock }) };
}

test('put creates, then updates only the fields given', async () => {
  const { store, clock, workspaces } = setup();
  const created = await workspaces.put('team-a', { description: 'first', tags: { owner: 'ana' } });
  assert.equal(created.created, true);
  assert.equal(created.workspace.name, 'team-a');
  assert.equal(created.workspace.displayName, 'team-a');
  assert.equal(created.workspace.description, 'first');
  assert.equal(created.workspace.createdAt, '2025-01-01T00:00:00.000Z');

  clock.t += 60_000;
  const updated = await workspaces.put('team-a', { displayName: 'Team A' });
  assert.equal(updated.created, false);
  assert.equal(updated.workspace.displayName, 'Team A');
  assert.equal(updated.workspace.description, 'first');
  assert.deepEqual(updated.workspace.tags, { owner: 'ana' });
  assert.equal(updated.workspace.createdAt, '2025-01-01T00:00:00.000Z');
  assert.equal(updated.workspace.updatedAt, '2025-01-01T00:01:00.000Z');
  assert.notEqual(updated.workspace.etag, created.workspace.etag);

  const stored = await (await store.container(WORKSPACES_CONTAINER)).read('team-a', 'team-a');
  assert.equal(stored?.kind, 'workspace');
  assert.equal(stored?.schemaVersion, 1);
  assert.equal(stored?.pk, 'team-a');
  assert.equal(stored?.updatedAt, clock.t);
});

test('names follow the Azure ML rule', async () => {
  const { workspaces } = setup();
  for (const good of ['abc', 'a-b_c', '1ab', 'x'.repeat(33)]) {
    assert.equal((await workspaces.put(good, {})).workspace.name, good);
  }
  for (const bad of ['ab', '-abc', '_abc', 'a b c', 'x'.repeat(34), 'ab/c', '']) {
    await assert.rejects(
      workspaces.put(bad, {}),
      (err: unknown) => err instanceof ValidationError && err.target === 'name',
      bad,
    );
  }
});

test('a bad body names the field; a body name must match the URL', async () => {
  const { workspaces } = setup();
  await assert.rejects(
    workspaces.put('team-a', { tags: { owner: 5 } } as never),
    (err: unknown) => err instanceof ValidationError && err.target === 'tags.owner',
  );
  await assert.rejects(
    workspaces.put('team-a', { name: 'team-b' }),
    (err: unknown) => err instanceof ValidationError && err.target === 'name',
  );
});

test('get and find', async () => {
  const { workspaces } = setup();
  assert.equal(await workspaces.find('nope'), undefined);
  await assert.rejects(
    workspaces.get('nope'),
    (err: unknown) => err instanceof NotFoundError && /tessera workspace create --name nope/.test(err.message),
  );
  await workspaces.put('here', {});
  assert.equal((await workspaces.get('here')).name, 'here');
});

test('If-Match: a stale etag is refused, the current one accepted', async () => {
  const { workspaces } = setup();
  const first = (await workspaces.put('team-a', {})).workspace;
  const second = (await workspaces.put('team-a', { description: 'two' }, { ifMatch: first.etag })).workspace;
  assert.equal(second.description, 'two');
  await assert.rejects(
    workspaces.put('team-a', { description: 'three' }, { ifMatch: first.etag }),
    PreconditionFailedError,
  );
  assert.equal((await workspaces.get('team-a')).description, 'two');
  await assert.rejects(workspaces.put('missing', {}, { ifMatch: first.etag }), PreconditionFailedError);
});

test('concurrent puts of a new workspace both succeed, one creates', async () => {
  const { workspaces } = setup();
  const results = await Promise.all([
    workspaces.put('race', { description: 'a' }),
    workspaces.put('race', { tags: { t: '1' } }),
  ]);
  assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
  const final = await workspaces.get('race');
  assert.equal(final.description, 'a');
  assert.deepEqual(final.tags, { t: '1' });
});

test('ensureDefault creates the default workspace once', async () => {
  const { workspaces } = setup();
  const first = await workspaces.ensureDefault();
  const again = await workspaces.ensureDefault();
  assert.equal(first.name, 'default');
  assert.equal(again.etag, first.etag);
});

test('list pages in name order and can be restricted to some names', async () => {
  const { workspaces } = setup();
  for (const name of ['ccc', 'aaa', 'bbb', 'ddd']) await workspaces.put(name, {});
  const page1 = await workspaces.list({ limit: 3 });
  assert.deepEqual(
    page1.value.map((w) => w.name),
    ['aaa', 'bbb', 'ccc'],
  );
  assert.ok(page1.continuation);
  const page2 = await workspaces.list({ limit: 3, continuation: page1.continuation });
  assert.deepEqual(
    page2.value.map((w) => w.name),
    ['ddd'],
  );
  assert.equal(page2.continuation, undefined);

  assert.deepEqual(
    (await workspaces.list({ names: ['ddd', 'aaa', 'zzz'] })).value.map((w) => w.name),
    ['aaa', 'ddd'],
  );
  assert.deepEqual((await workspaces.list({ names: [] })).value, []);
});

test('namesForMember matches exact object ids only', async () => {
  const { workspaces } = setup();
  await workspaces.put('one', { members: ['oid-1', 'oid-2'] });
  await workspaces.put('two', { members: ['oid-2'] });
  await workspaces.put('three', { members: ['oid-10'] });
  assert.deepEqual(await workspaces.namesForMember('oid-2'), ['one', 'two']);
  assert.deepEqual(await workspaces.namesForMember('oid-1'), ['one']);
  assert.deepEqual(await workspaces.namesForMember('oid'), []);
});

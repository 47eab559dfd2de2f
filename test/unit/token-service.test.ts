import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { SYSTEM_PARTITION, TOKENS_CONTAINER, TOKEN_PATTERN } from '../../shared/contracts/token.js';
import { createTokenService } from '../../shared/services/token-service.js';

const DAY = 24 * 60 * 60 * 1000;

function setup() {
  const store = SqliteMetadataStore.open(':memory:');
  const clock = {
    t: Date.UTC(2025, 0, 1),
    now() {
      return this.t;
    },
  };
  return { store, clock, tokens: createTokenService({ store, clock, defaultTtlDays: 90 }) };
}

test('create returns the secret once and stores only its hash', async () => {
  const { store, tokens } = setup();
  const created = await tokens.create({ workspaces: ['team-a'], description: 'ci' }, { createdBy: 'token:tok_x' });
  assert.match(created.token, TOKEN_PATTERN);
  assert.match(created.id, /^tok_[0-9a-f]{32}$/);
  assert.equal(created.status, 'active');
  assert.equal(created.expiresAt, new Date(Date.UTC(2025, 0, 1) + 90 * DAY).toISOString());

  const container = await store.container(TOKENS_CONTAINER);
  const stored = await container.read(SYSTEM_PARTITION, created.id);
  assert.ok(stored);
  assert.equal(stored.tokenHash, createHash('sha256').update(created.token).digest('hex'));
  assert.equal(stored.schemaVersion, 1);
  assert.ok(!JSON.stringify(stored).includes(created.token.slice(4)), 'the secret must not be stored');

  const listed = await tokens.list();
  assert.equal(listed.value.length, 1);
  assert.equal(listed.value[0]?.id, created.id);
  assert.equal(listed.value[0]?.createdBy, 'token:tok_x');
  assert.ok(!('token' in (listed.value[0] ?? {})));
  assert.ok(!JSON.stringify(listed).includes('tokenHash'));
});

test('verify accepts the token and returns its grant', async () => {
  const { tokens } = setup();
  const scoped = await tokens.create({ workspaces: ['team-a', 'team-b'] });
  const admin = await tokens.create({ workspaces: ['*'], expiresInDays: 1 });
  assert.deepEqual(await tokens.verify(scoped.token), {
    tokenId: scoped.id,
    workspaces: ['team-a', 'team-b'],
    description: '',
  });
  assert.equal((await tokens.verify(admin.token))?.workspaces, '*');
});

test('verify rejects unknown, malformed, tampered, expired and revoked tokens', async () => {
  const { tokens, clock } = setup();
  const created = await tokens.create({ workspaces: ['*'], expiresInDays: 2 });
  const last = created.token.at(-1) === 'A' ? 'B' : 'A';
  for (const bad of [
    '',
    'tsr_',
    'tsr_short',
    `${created.token}x`,
    created.token.slice(0, -1) + last,
    created.token.replace('tsr_', 'tsk_'),
  ]) {
    assert.equal(await tokens.verify(bad), undefined, bad);
  }
  clock.t += 2 * DAY;
  assert.equal(await tokens.verify(created.token), undefined, 'expired');

  const other = await tokens.create({ workspaces: ['*'] });
  assert.ok(await tokens.verify(other.token));
  const revoked = await tokens.revoke(other.id);
  assert.equal(revoked.status, 'revoked');
  assert.equal(await tokens.verify(other.token), undefined, 'revoked');
  assert.equal((await tokens.revoke(other.id)).revokedAt, revoked.revokedAt, 'revoking twice is harmless');
});

test('scopes are validated', async () => {
  const { tokens } = setup();
  const cases: [unknown, string][] = [
    [{ workspaces: [] }, 'workspaces'],
    [{ workspaces: ['*', 'team-a'] }, 'workspaces'],
    [{ workspaces: ['no'] }, 'workspaces.0'],
    [{ workspaces: ['*'], expiresInDays: 0 }, 'expiresInDays'],
    [{ workspaces: ['*'], extra: 1 }, 'extra'],
  ];
  for (const [body, target] of cases) {
    await assert.rejects(
      tokens.create(body as never),
      (err: unknown) => err instanceof ValidationError && err.target === target,
      JSON.stringify(body),
    );
  }
});

test('revoke of an unknown or malformed id', async () => {
  const { tokens } = setup();
  await assert.rejects(tokens.revoke(`tok_${'0'.repeat(32)}`), NotFoundError);
  await assert.rejects(tokens.revoke('../etc'), ValidationError);
});

test('deleteExpired removes exactly the expired tokens', async () => {
  const { tokens, clock } = setup();
  const short = await tokens.create({ workspaces: ['*'], expiresInDays: 1 });
  const long = await tokens.create({ workspaces: ['*'], expiresInDays: 10 });
  for (let i = 0; i < 120; i++) await tokens.create({ workspaces: ['*'], expiresInDays: 2 });
  assert.equal(await tokens.deleteExpired(clock.now()), 0);
  clock.t += 3 * DAY;
  assert.equal(await tokens.deleteExpired(), 121);
  const left = await tokens.list({ limit: 1000 });
  assert.deepEqual(
    left.value.map((t) => t.id),
    [long.id],
  );
  assert.notEqual(short.id, long.id);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { ForbiddenError, UnauthorizedError } from '../../shared/errors.js';
import { createAuthenticator, requireAdmin } from '../../shared/services/authenticator.js';
import type { EntraVerifier } from '../../shared/services/entra-verifier.js';
import { createTokenService } from '../../shared/services/token-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';

/** A verifier over a fixed table of tokens: the authenticator's contract with Entra is the result type. */
function tableVerifier(table: Record<string, { oid: string; roles: string[] }>): EntraVerifier {
  return {
    async verify(token) {
      const identity = table[token];
      return identity
        ? { ok: true, identity: { ...identity, tenantId: 't' } }
        : { ok: false, reason: 'the token signature is invalid' };
    },
  };
}

async function setup(mode: 'on' | 'off' = 'on', withEntra = true) {
  const store = SqliteMetadataStore.open(':memory:');
  const clock = { now: () => Date.UTC(2025, 0, 1) };
  const tokens = createTokenService({ store, clock, defaultTtlDays: 90 });
  const workspaces = createWorkspaceService({ store, clock });
  await workspaces.put('team-a', { members: ['oid-member'] });
  await workspaces.put('team-b', {});
  const entra = tableVerifier({
    'eyJ.admin.sig': { oid: 'oid-admin', roles: ['Tessera.Admin'] },
    'eyJ.member.sig': { oid: 'oid-member', roles: [] },
  });
  const authenticator = createAuthenticator({ mode, tokens, workspaces, ...(withEntra ? { entra } : {}) });
  return { tokens, workspaces, authenticator };
}

const unauthorized = (target: string) => (err: unknown) =>
  err instanceof UnauthorizedError && err.status === 401 && err.target === target;

test('missing or non-bearer credentials are 401 without an error code', async () => {
  const { authenticator } = await setup();
  for (const header of [undefined, null, '', '   ', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b']) {
    await assert.rejects(authenticator.authenticate(header, 'team-a'), unauthorized('authorization'), String(header));
  }
});

test('API tokens: valid grants its workspaces, invalid is 401, other workspace is 403', async () => {
  const { tokens, authenticator } = await setup();
  const scoped = await tokens.create({ workspaces: ['team-a'] });
  const principal = await authenticator.authenticate(`Bearer ${scoped.token}`, 'team-a');
  assert.deepEqual(principal, { kind: 'token', id: scoped.id, workspaces: ['team-a'], roles: [] });
  assert.equal(
    (await authenticator.authenticate(`bearer ${scoped.token}`)).id,
    scoped.id,
    'the scheme is case-insensitive',
  );

  await assert.rejects(
    authenticator.authenticate(`Bearer ${scoped.token}`, 'team-b'),
    (err: unknown) => err instanceof ForbiddenError && err.status === 403,
  );
  assert.throws(() => requireAdmin(principal), ForbiddenError);

  await assert.rejects(authenticator.authenticate(`Bearer tsr_${'A'.repeat(43)}`, 'team-a'), unauthorized('token'));
  await tokens.revoke(scoped.id);
  await assert.rejects(authenticator.authenticate(`Bearer ${scoped.token}`, 'team-a'), unauthorized('token'));

  const admin = await tokens.create({ workspaces: ['*'] });
  const root = await authenticator.authenticate(`Bearer ${admin.token}`, 'anything-at-all');
  assert.equal(root.workspaces, '*');
  assert.doesNotThrow(() => requireAdmin(root));
});

test('Entra tokens: the admin role grants every workspace, others get their memberships', async () => {
  const { authenticator } = await setup();
  const admin = await authenticator.authenticate('Bearer eyJ.admin.sig', 'team-b');
  assert.equal(admin.kind, 'entra');
  assert.equal(admin.workspaces, '*');

  const member = await authenticator.authenticate('Bearer eyJ.member.sig', 'team-a');
  assert.deepEqual(member.workspaces, ['team-a']);
  await assert.rejects(authenticator.authenticate('Bearer eyJ.member.sig', 'team-b'), ForbiddenError);
  await assert.rejects(
    authenticator.authenticate('Bearer eyJ.forged.sig', 'team-a'),
    (err: unknown) => unauthorized('token')(err) && /signature is invalid/.test((err as Error).message),
  );
});

test('without Entra configured, a non-tsr bearer token is 401 and says why', async () => {
  const { authenticator } = await setup('on', false);
  await assert.rejects(
    authenticator.authenticate('Bearer eyJ.admin.sig'),
    (err: unknown) => unauthorized('token')(err) && /ENTRA_TENANT_ID/.test((err as Error).message),
  );
});

test('TESSERA_AUTH=off: anonymous administrator, whatever is sent', async () => {
  const { authenticator } = await setup('off');
  for (const header of [undefined, 'Bearer garbage']) {
    const principal = await authenticator.authenticate(header, 'team-b');
    assert.equal(principal.kind, 'anonymous');
    assert.equal(principal.workspaces, '*');
  }
});

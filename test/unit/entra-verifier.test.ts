import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientError } from '../../shared/errors.js';
import { createEntraVerifier, defaultEntraIssuers } from '../../shared/services/entra-verifier.js';
import type { EntraVerification } from '../../shared/services/entra-verifier.js';

const TENANT = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'api://tessera';
const NOW = Date.UTC(2025, 5, 1, 12);

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

function newKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}

function jwt(key: SigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const h = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = sign('RSA-SHA256', Buffer.from(`${h}.${p}`), key.privateKey).toString('base64url');
  return `${h}.${p}.${s}`;
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = Math.floor(NOW / 1000);
  return {
    iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
    aud: AUDIENCE,
    tid: TENANT,
    oid: 'oid-alice',
    preferred_username: 'alice@contoso.com',
    roles: ['Tessera.Admin'],
    iat: t - 60,
    nbf: t - 60,
    exp: t + 3600,
    ...overrides,
  };
}

const keyA = newKey('key-a');
const keyB = newKey('key-b');
const stranger = newKey('key-a'); // same kid as keyA, different key
let served: SigningKey[] = [keyA];
let requests = 0;
let status = 200;
let server: Server;
let jwksUrl: string;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [{ kty: 'EC', kid: 'ignored', crv: 'P-256' }, ...served.map((k) => k.publicJwk)] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discovery/v2.0/keys`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function verifier(t: { now: number } = { now: NOW }, extra: Partial<Parameters<typeof createEntraVerifier>[0]> = {}) {
  served = [keyA];
  requests = 0;
  status = 200;
  return createEntraVerifier({ tenantId: TENANT, audience: AUDIENCE, jwksUrl, clock: { now: () => t.now }, ...extra });
}

function rejected(result: EntraVerification, pattern: RegExp): void {
  assert.equal(result.ok, false, 'expected the token to be rejected');
  if (!result.ok) assert.match(result.reason, pattern);
}

test('a valid v2 token yields the oid and roles; keys are cached', async () => {
  const v = verifier();
  const result = await v.verify(jwt(keyA, claims()));
  assert.deepEqual(result, {
    ok: true,
    identity: { oid: 'oid-alice', tenantId: TENANT, roles: ['Tessera.Admin'], name: 'alice@contoso.com' },
  });
  await v.verify(jwt(keyA, claims({ roles: undefined })));
  assert.equal(requests, 1);
});

test('v1 issuer and an audience list are accepted', async () => {
  const v = verifier();
  const result = await v.verify(
    jwt(keyA, claims({ iss: `https://sts.windows.net/${TENANT}/`, aud: ['other', AUDIENCE], roles: undefined })),
  );
  assert.equal(result.ok, true);
  if (result.ok) assert.deepEqual(result.identity.roles, []);
  assert.deepEqual(defaultEntraIssuers(TENANT), [
    `https://login.microsoftonline.com/${TENANT}/v2.0`,
    `https://sts.windows.net/${TENANT}/`,
  ]);
});

test('expired tokens are rejected, within 5 minutes of skew they are not', async () => {
  const t = Math.floor(NOW / 1000);
  const v = verifier();
  rejected(await v.verify(jwt(keyA, claims({ exp: t - 301 }))), /expired/);
  assert.equal((await v.verify(jwt(keyA, claims({ exp: t - 200 })))).ok, true);
  rejected(await v.verify(jwt(keyA, claims({ nbf: t + 301 }))), /not valid yet/);
  assert.equal((await v.verify(jwt(keyA, claims({ nbf: t + 200 })))).ok, true);
  rejected(await v.verify(jwt(keyA, claims({ exp: undefined }))), /no expiry/);
});

test('wrong audience and wrong issuer are rejected', async () => {
  const v = verifier();
  rejected(await v.verify(jwt(keyA, claims({ aud: 'api://someone-else' }))), /audience/);
  rejected(await v.verify(jwt(keyA, claims({ iss: 'https://login.microsoftonline.com/other-tenant/v2.0' }))), /issuer/);
  const overridden = verifier({ now: NOW }, { issuer: 'https://issuer.example/' });
  rejected(await overridden.verify(jwt(keyA, claims())), /issuer/);
  assert.equal((await overridden.verify(jwt(keyA, claims({ iss: 'https://issuer.example/' })))).ok, true);
});

test('a bad signature, another algorithm and garbage are rejected', async () => {
  const v = verifier();
  rejected(await v.verify(jwt(stranger, claims())), /signature/);
  const good = jwt(keyA, claims());
  const [h, , s] = good.split('.');
  const forgedPayload = Buffer.from(JSON.stringify(claims({ oid: 'oid-mallory' }))).toString('base64url');
  rejected(await v.verify(`${h}.${forgedPayload}.${s}`), /signature/);
  rejected(await v.verify(jwt(keyA, claims(), { alg: 'HS256' })), /algorithm/);
  rejected(await v.verify(jwt(keyA, claims(), { alg: 'none' })), /algorithm/);
  rejected(await v.verify('not-a-jwt'), /not a JWT/);
  rejected(await v.verify('a.b.c'), /well-formed/);
  rejected(await v.verify(jwt(keyA, claims({ oid: undefined }))), /oid/);
});

test('an unknown kid refetches the keys once, then is rate limited', async () => {
  const clock = { now: NOW };
  const v = verifier(clock, { minRefetchIntervalMs: 60_000 });
  assert.equal((await v.verify(jwt(keyA, claims()))).ok, true);
  assert.equal(requests, 1);

  rejected(await v.verify(jwt(keyB, claims())), /unknown key \(kid key-b\)/);
  assert.equal(requests, 1, 'no refetch within the rate limit of the first fetch');

  clock.now += 61_000;
  served = [keyA, keyB]; // Entra rolled its keys
  assert.equal((await v.verify(jwt(keyB, claims({ exp: Math.floor(clock.now / 1000) + 60 })))).ok, true);
  assert.equal(requests, 2);

  const ghost = newKey('key-ghost');
  rejected(await v.verify(jwt(ghost, claims({ exp: Math.floor(clock.now / 1000) + 60 }))), /unknown key/);
  rejected(await v.verify(jwt(ghost, claims({ exp: Math.floor(clock.now / 1000) + 60 }))), /unknown key/);
  assert.equal(requests, 2, 'unknown kids within the interval do not refetch');
});

test('an unreachable key endpoint is a transient fault, not a rejected token', async () => {
  const v = verifier();
  status = 500;
  await assert.rejects(v.verify(jwt(keyA, claims())), TransientError);
});

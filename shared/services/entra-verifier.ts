import { createPublicKey, verify as verifySignature } from 'node:crypto';
import type { KeyObject, JsonWebKey } from 'node:crypto';
import { TransientError } from '../errors.js';
import type { Clock } from '../ports/clock.js';

/**
 * Verifies Microsoft Entra ID access tokens (RS256 JWTs) with node:crypto against the tenant's
 * JSON Web Key Set. Keys are cached; an unknown `kid` triggers a refetch (Entra rolls its keys),
 * at most once per `minRefetchIntervalMs` so forged kids cannot turn into a request flood.
 */

export interface EntraVerifierOptions {
  tenantId: string;
  /** Expected `aud`. */
  audience: string;
  /** Default: https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys */
  jwksUrl?: string;
  /** Default: the tenant's v2 and v1 issuers. */
  issuer?: string;
  clock: Clock;
  fetch?: typeof fetch;
  /** Allowed clock difference for exp/nbf (default 5 minutes). */
  clockSkewMs?: number;
  /** Minimum time between refetches caused by unknown key ids (default 60 s). */
  minRefetchIntervalMs?: number;
  /** Refresh the key set after this long even if every kid is known (default 24 h). */
  cacheTtlMs?: number;
  /** JWKS request timeout (default 10 s). */
  fetchTimeoutMs?: number;
}

export interface EntraIdentity {
  /** Object id of the user, group-less service principal or managed identity. */
  oid: string;
  tenantId: string;
  roles: string[];
  /** A readable name when the token has one (preferred_username, upn, name or appid). */
  name?: string;
}

export type EntraVerification = { ok: true; identity: EntraIdentity } | { ok: false; reason: string };

export interface EntraVerifier {
  verify(token: string): Promise<EntraVerification>;
}

interface JwtHeader {
  alg?: unknown;
  kid?: unknown;
  typ?: unknown;
}

export function defaultEntraIssuers(tenantId: string): string[] {
  return [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
}

export function defaultEntraJwksUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`;
}

export function createEntraVerifier(options: EntraVerifierOptions): EntraVerifier {
  const {
    tenantId,
    audience,
    clock,
    clockSkewMs = 5 * 60 * 1000,
    minRefetchIntervalMs = 60 * 1000,
    cacheTtlMs = 24 * 60 * 60 * 1000,
    fetchTimeoutMs = 10 * 1000,
  } = options;
  const jwksUrl = options.jwksUrl ?? defaultEntraJwksUrl(tenantId);
  const issuers = options.issuer === undefined ? defaultEntraIssuers(tenantId) : [options.issuer];
  const doFetch = options.fetch ?? fetch;

  let keys = new Map<string, KeyObject>();
  let fetchedAt: number | undefined;
  let inFlight: Promise<void> | undefined;
  let lastFetchError: unknown;

  const refresh = (): Promise<void> => {
    inFlight ??= (async () => {
      try {
        keys = await fetchKeys();
        lastFetchError = undefined;
      } catch (err) {
        lastFetchError = err;
        throw err;
      } finally {
        // Failed fetches count too: an unreachable endpoint must not be hammered.
        fetchedAt = clock.now();
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const fetchKeys = async (): Promise<Map<string, KeyObject>> => {
    let body: unknown;
    try {
      const response = await doFetch(jwksUrl, {
        signal: AbortSignal.timeout(fetchTimeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = await response.json();
    } catch (err) {
      throw new TransientError(
        `Could not fetch the Microsoft Entra signing keys from ${jwksUrl}: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
    const list =
      typeof body === 'object' && body !== null && Array.isArray((body as { keys?: unknown }).keys)
        ? (body as { keys: unknown[] }).keys
        : [];
    const result = new Map<string, KeyObject>();
    for (const jwk of list) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      const { kty, kid, use } = jwk as { kty?: unknown; kid?: unknown; use?: unknown };
      if (kty !== 'RSA' || typeof kid !== 'string' || (use !== undefined && use !== 'sig')) continue;
      try {
        result.set(kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
      } catch {
        // A malformed key in the set must not disable the good ones.
      }
    }
    return result;
  };

  const keyFor = async (kid: string): Promise<KeyObject | undefined> => {
    const now = clock.now();
    const stale = fetchedAt === undefined || now - fetchedAt >= cacheTtlMs;
    const mayRefetch = fetchedAt === undefined || now - fetchedAt >= minRefetchIntervalMs;
    if (stale || (!keys.has(kid) && mayRefetch)) {
      try {
        await refresh();
      } catch {
        // Keep serving with the keys we have; handled below when we have none.
      }
    }
    // With no keys at all the fault is ours (the key endpoint is unreachable), not the caller's.
    if (keys.size === 0 && lastFetchError !== undefined) throw lastFetchError;
    return keys.get(kid);
  };

  const verify = async (token: string): Promise<EntraVerification> => {
    const parts = token.split('.');
    if (parts.length !== 3) return fail('the bearer token is not a JWT');
    const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
    const header = decodeJson(headerPart) as JwtHeader | undefined;
    const claims = decodeJson(payloadPart) as Record<string, unknown> | undefined;
    if (header === undefined || claims === undefined) return fail('the bearer token is not a well-formed JWT');
    if (header.alg !== 'RS256')
      return fail(`unsupported token algorithm ${JSON.stringify(header.alg)}; expected RS256`);
    if (typeof header.kid !== 'string') return fail('the token header has no key id (kid)');

    const key = await keyFor(header.kid);
    if (key === undefined) return fail(`the token is signed with an unknown key (kid ${header.kid})`);
    const signature = Buffer.from(signaturePart, 'base64url');
    const signedOk = verifySignature(
      'RSA-SHA256',
      Buffer.from(`${headerPart}.${payloadPart}`, 'ascii'),
      key,
      signature,
    );
    if (!signedOk) return fail('the token signature is invalid');

    if (typeof claims.iss !== 'string' || !issuers.includes(claims.iss)) {
      return fail(`the token issuer ${JSON.stringify(claims.iss)} is not accepted; expected ${issuers.join(' or ')}`);
    }
    const aud = claims.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(audience)) return fail(`the token audience ${JSON.stringify(aud)} is not ${audience}`);

    const now = clock.now();
    if (typeof claims.exp !== 'number') return fail('the token has no expiry (exp)');
    if (now >= claims.exp * 1000 + clockSkewMs) return fail('the token has expired');
    if (typeof claims.nbf === 'number' && now < claims.nbf * 1000 - clockSkewMs)
      return fail('the token is not valid yet (nbf)');

    if (typeof claims.oid !== 'string' || claims.oid === '') return fail('the token has no object id (oid)');
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
    const name = [claims.preferred_username, claims.upn, claims.name, claims.appid].find(
      (v): v is string => typeof v === 'string',
    );
    return {
      ok: true,
      identity: {
        oid: claims.oid,
        tenantId: typeof claims.tid === 'string' ? claims.tid : tenantId,
        roles,
        ...(name === undefined ? {} : { name }),
      },
    };
  };

  return { verify };
}

function fail(reason: string): EntraVerification {
  return { ok: false, reason };
}

function decodeJson(part: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

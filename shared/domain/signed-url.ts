import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors.js';
import type { SignedUrlOptions } from '../ports/artifact-store.js';

/**
 * Signed artifact read URLs for the embedded artifact store: an HMAC-SHA256 over
 * `container + '/' + path + '\n' + se`, where `se` is the expiry in epoch seconds. The HTTP
 * function that serves `/api/artifacts/signed/{container}/{*path}` verifies with
 * `verifyArtifactSignature` before reading the object.
 */

const SE_PATTERN = /^[0-9]{1,15}$/;
const DEFAULT_EXPIRES_IN_SECONDS = 3600;
const MAX_EXPIRES_IN_SECONDS = 7 * 24 * 3600;

function stringToSign(container: string, path: string, se: string): string {
  return `${container}/${path}\n${se}`;
}

/** base64url HMAC-SHA256 of the artifact and its expiry (epoch seconds). */
export function signArtifactPath(key: Buffer, container: string, path: string, expiresAtSeconds: number): string {
  if (!Number.isSafeInteger(expiresAtSeconds) || expiresAtSeconds < 0) {
    throw new RangeError(`expiresAtSeconds must be a non-negative integer, got ${String(expiresAtSeconds)}`);
  }
  return createHmac('sha256', key)
    .update(stringToSign(container, path, String(expiresAtSeconds)))
    .digest('base64url');
}

/**
 * True when `sig` is the signature of (container, path, se) and `se` (epoch seconds, as found in
 * the query string) is still in the future at `nowMs`. Compares in constant time.
 */
export function verifyArtifactSignature(
  key: Buffer,
  container: string,
  path: string,
  se: string | number,
  sig: string,
  nowMs: number,
): boolean {
  const seText = typeof se === 'number' ? String(se) : se;
  if (!SE_PATTERN.test(seText)) return false;
  if (Number(seText) * 1000 <= nowMs) return false;
  const expected = createHmac('sha256', key)
    .update(stringToSign(container, path, seText))
    .digest();
  let given: Buffer;
  try {
    given = Buffer.from(sig, 'base64url');
  } catch {
    return false;
  }
  // Re-encoding rejects non-canonical spellings (padding, stray characters) that decode to the same bytes.
  if (given.length !== expected.length || given.toString('base64url') !== sig) return false;
  return timingSafeEqual(given, expected);
}

/** Encodes a '/'-separated artifact path for a URL: like encodeURI, plus '?' and '#'. */
export function encodeArtifactPath(path: string): string {
  return encodeURI(path).replace(/[?#]/g, (c) => encodeURIComponent(c));
}

/**
 * `${publicBaseUrl}/api/artifacts/signed/${container}/${path}?se=..&sig=..`; the path is encoded
 * with `encodeArtifactPath`, so a reader decodes each segment with decodeURIComponent.
 */
export function signedArtifactUrl(
  publicBaseUrl: string,
  key: Buffer,
  container: string,
  path: string,
  expiresAtSeconds: number,
): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  const sig = signArtifactPath(key, container, path, expiresAtSeconds);
  return `${base}/api/artifacts/signed/${container}/${encodeArtifactPath(path)}?se=${expiresAtSeconds}&sig=${sig}`;
}

export interface ParsedSignedArtifactUrl {
  container: string;
  path: string;
  se: string;
  sig: string;
}

/**
 * Splits a URL made by `signedArtifactUrl` back into its parts (no verification); undefined when
 * it does not have that shape.
 */
export function parseSignedArtifactUrl(url: string | URL): ParsedSignedArtifactUrl | undefined {
  const u = typeof url === 'string' ? new URL(url) : url;
  const marker = '/api/artifacts/signed/';
  const at = u.pathname.indexOf(marker);
  if (at < 0) return undefined;
  const rest = u.pathname.slice(at + marker.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  let container: string;
  let path: string;
  try {
    container = decodeURIComponent(rest.slice(0, slash));
    path = rest
      .slice(slash + 1)
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/');
  } catch {
    return undefined;
  }
  const se = u.searchParams.get('se');
  const sig = u.searchParams.get('sig');
  if (se === null || sig === null || path === '') return undefined;
  return { container, path, se, sig };
}

/**
 * The expiry (epoch seconds) of a signed read URL asked for at `nowMs`: `expiresInSeconds` from
 * now, one hour by default, at most 7 days. Every ArtifactStore adapter resolves it this way, the
 * Blob adapter's SAS included.
 */
export function resolveSignedUrlExpiry(options: SignedUrlOptions | undefined, nowMs: number): number {
  const seconds = options?.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRES_IN_SECONDS) {
    throw new ValidationError(
      `Invalid expiresInSeconds ${String(seconds)}: expected an integer from 1 to 604800 (7 days).`,
      {
        target: 'expiresInSeconds',
      },
    );
  }
  return Math.floor(nowMs / 1000) + seconds;
}

import { ValidationError } from '../errors.js';

/**
 * Naming rules of every ArtifactStore adapter, so that the filesystem and Blob adapters reject the
 * same container names and paths with the same message.
 */

const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const MAX_PATH_LENGTH = 1024;

/** True when `text` holds NUL or another control character (U+0000-U+001F, U+007F). */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARS.test(text);
}

/** Azure container naming: 3-63 characters, lowercase letters, digits and single inner hyphens. */
export function assertArtifactContainer(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CONTAINER_NAME.test(name)) {
    throw new ValidationError(
      `Invalid artifact container ${JSON.stringify(name)}: use 3-63 lowercase letters, digits and hyphens, ` +
        'starting and ending with a letter or digit, with no two hyphens in a row.',
      { target: 'container' },
    );
  }
}

/**
 * Normalises an object path ('a//b', './a' → 'a/b', 'a') and refuses anything that could name
 * something outside the container: '..' segments, absolute or drive paths, backslashes, NUL and
 * other control characters, a trailing '/', segments over 255 bytes, paths over 1024 characters.
 */
export function normalizeArtifactPath(path: unknown, target = 'path'): string {
  const bad = (why: string): never => {
    throw new ValidationError(`Invalid artifact path ${JSON.stringify(path)}: ${why}.`, { target });
  };
  if (typeof path !== 'string') return bad('expected a string');
  if (path.length === 0) bad('it is empty');
  if (path.length > MAX_PATH_LENGTH) bad(`it is longer than ${MAX_PATH_LENGTH} characters`);
  if (hasControlCharacter(path)) bad('it contains NUL or another control character');
  if (path.includes('\\')) bad("it contains a backslash; use '/' between folders");
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path))
    bad('absolute paths are not allowed; give a path relative to the container');
  if (path.endsWith('/')) bad("it ends with '/', which names a folder, not an object");
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) bad("'..' segments are not allowed");
  if (segments.length === 0) bad('it names no object');
  if (segments.some((s) => Buffer.byteLength(s) > 255)) bad('a segment is longer than 255 bytes');
  return segments.join('/');
}

/** A list prefix: like a path, but it may be empty or end with '/'. */
export function normalizeArtifactPrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string') throw new ValidationError('Invalid prefix: expected a string.', { target: 'prefix' });
  const trailing = prefix.endsWith('/');
  const body = trailing ? prefix.replace(/\/+$/, '') : prefix;
  if (body === '') return '';
  return normalizeArtifactPath(body, 'prefix') + (trailing ? '/' : '');
}

/** The largest range one `readRange` call returns. */
export const MAX_RANGE_BYTES = 64 * 1024 * 1024;

/** Checks the arguments of `ArtifactStore.readRange`. */
export function checkRange(offset: unknown, maxBytes: unknown): void {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new ValidationError(`offset must be a whole number of bytes ≥ 0; got ${String(offset)}.`, {
      target: 'offset',
    });
  }
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_RANGE_BYTES) {
    throw new ValidationError(
      `maxBytes must be a whole number between 1 and ${MAX_RANGE_BYTES}; got ${String(maxBytes)}.`,
      {
        target: 'maxBytes',
      },
    );
  }
}

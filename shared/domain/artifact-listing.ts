import { ValidationError } from '../errors.js';
import type { ListOptions } from '../ports/artifact-store.js';
import { normalizeArtifactPrefix } from './artifact-paths.js';
import { decodeContinuationToken, type ContinuationTokenFormat } from './continuation-token.js';

/** Paging rules of every ArtifactStore adapter's `list`. */

export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 5000;

export interface CheckedListOptions {
  prefix: string;
  limit: number;
  /** Where the listing resumes, from the continuation token; undefined on the first page. */
  position: string | undefined;
}

/**
 * Checks the prefix, the limit and the continuation token, in that order; the token must have been
 * made by `token` for the same prefix.
 */
export function checkListOptions(options: ListOptions, token: ContinuationTokenFormat<string>): CheckedListOptions {
  const prefix = normalizeArtifactPrefix(options.prefix);
  const limit = resolveListLimit(options.limit);
  const position =
    options.continuation === undefined ? undefined : decodeContinuationToken(token, options.continuation, prefix);
  return { prefix, limit, position };
}

function resolveListLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(`Invalid limit ${String(limit)}: expected a positive integer.`, { target: 'limit' });
  }
  return Math.min(limit, MAX_LIST_LIMIT);
}

/**
 * A list continuation token: bound to the normalised prefix (property `p`), resuming from a string
 * the adapter defines, kept under `positionKey` (the filesystem adapter's last path, Blob's marker).
 */
export function artifactListTokenFormat(positionKey: string): ContinuationTokenFormat<string> {
  return {
    bindingKey: 'p',
    positionKey,
    isPosition: (value): value is string => typeof value === 'string',
    unreadable: 'Invalid continuation token for this listing (it was made for another prefix or store).',
  };
}

import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import type { Filter, OrderBy, QueryOptions } from '../ports/metadata-store.js';
import type { ContinuationTokenFormat } from './continuation-token.js';
import { assertPartitionKey } from './document-keys.js';

/**
 * Query rules of every MetadataStore adapter (page size, field paths, filters, sort keys and the
 * continuation token's binding), so that the SQLite and Cosmos adapters accept the same queries and
 * reject the rest with the same message.
 */

const PATH_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const FILTER_OPS = new Set(['=', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'startsWith', 'exists']);
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

export type Scalar = string | number | boolean | null;

export interface CheckedFilter {
  segments: string[];
  op: Filter['op'];
  value: unknown;
}

export interface CheckedOrder {
  segments: string[];
  desc: boolean;
}

export interface CheckedQuery {
  limit: number;
  filters: CheckedFilter[];
  order: CheckedOrder[];
  /** Binds continuation tokens to this query (see `queryTokenFormat`). */
  fingerprint: string;
}

/** Checks the limit, filters, sort keys and partition key, in that order, and digests the query. */
export function checkQuery(container: string, options: QueryOptions): CheckedQuery {
  const limit = resolveQueryLimit(options.limit);
  const filters = checkFilters(options.filters);
  const order = checkOrderBy(options.orderBy);
  if (options.partitionKey !== undefined) assertPartitionKey(options.partitionKey);
  return { limit, filters, order, fingerprint: queryFingerprint(container, options) };
}

/** Splits and checks a dotted field path such as `tags.owner`. */
function parseFieldPath(path: unknown, target = 'path'): string[] {
  const segments = typeof path === 'string' ? path.split('.') : [];
  if (segments.length === 0 || segments.length > 16 || !segments.every((s) => PATH_SEGMENT.test(s))) {
    throw new ValidationError(
      `Invalid field path ${JSON.stringify(path)}: expected dot-separated names of letters, digits, '_' or '-' (e.g. "tags.owner").`,
      { target },
    );
  }
  return segments;
}

function resolveQueryLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(
      `Invalid limit ${String(limit)}: expected a positive integer (at most ${MAX_QUERY_LIMIT}).`,
      {
        target: 'limit',
      },
    );
  }
  return Math.min(limit, MAX_QUERY_LIMIT);
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Checks that each filter's value suits its operator; the message names the filter. */
function checkFilters(filters: readonly Filter[] | undefined): CheckedFilter[] {
  return (filters ?? []).map((f, i) => {
    const target = `filters[${i}]`;
    if (!FILTER_OPS.has(f.op)) {
      throw new ValidationError(`Unknown filter operator ${JSON.stringify(f.op)} in ${target}.`, { target });
    }
    const segments = parseFieldPath(f.path, `${target}.path`);
    const bad = (expected: string): never => {
      throw new ValidationError(
        `Filter ${target} (${f.path} ${f.op}) needs ${expected}, got ${JSON.stringify(f.value) ?? 'undefined'}.`,
        { target: `${target}.value` },
      );
    };
    switch (f.op) {
      case '=':
        if (!isScalar(f.value)) bad('a string, number, boolean or null');
        break;
      case '!=':
        if (!isScalar(f.value) || f.value === null)
          bad("a string, number or boolean (use op 'exists' to test for presence)");
        break;
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (typeof f.value !== 'string' && !(typeof f.value === 'number' && Number.isFinite(f.value)))
          bad('a string or number');
        break;
      case 'in':
        if (!Array.isArray(f.value) || f.value.length > 256 || !f.value.every(isScalar))
          bad('an array of at most 256 scalars');
        break;
      case 'contains':
        if (!isScalar(f.value) || f.value === null) bad('a string, number or boolean');
        break;
      case 'startsWith':
        if (typeof f.value !== 'string') bad('a string');
        break;
      case 'exists':
        if (f.value !== undefined && typeof f.value !== 'boolean') bad('true, false or no value');
        break;
    }
    return { segments, op: f.op, value: f.value };
  });
}

/** The requested sort keys followed by `id` ascending (unless `id` is already a key). */
export function checkOrderBy(orderBy: readonly OrderBy[] | undefined): CheckedOrder[] {
  const keys = (orderBy ?? []).map((o, i) => {
    if (o.direction !== undefined && o.direction !== 'asc' && o.direction !== 'desc') {
      throw new ValidationError(
        `Invalid direction ${JSON.stringify(o.direction)} in orderBy[${i}]: use 'asc' or 'desc'.`,
        {
          target: `orderBy[${i}].direction`,
        },
      );
    }
    return { segments: parseFieldPath(o.path, `orderBy[${i}].path`), desc: o.direction === 'desc' };
  });
  if (keys.length > 8) throw new ValidationError('At most 8 orderBy keys are supported.', { target: 'orderBy' });
  if (!keys.some((k) => k.segments.length === 1 && k.segments[0] === 'id'))
    keys.push({ segments: ['id'], desc: false });
  return keys;
}

/** A short digest of what a query selects, so a continuation token is not replayed on another query. */
function queryFingerprint(container: string, options: QueryOptions): string {
  const shape = JSON.stringify([container, options.partitionKey ?? null, options.filters ?? [], options.orderBy ?? []]);
  return createHash('sha256').update(shape).digest('base64url').slice(0, 16);
}

/**
 * A query continuation token: bound to the query's fingerprint (property `q`), resuming from what
 * the adapter keeps under `positionKey` (SQLite's last sort values, Cosmos' own continuation).
 */
export function queryTokenFormat<T>(
  positionKey: string,
  isPosition: (value: unknown) => value is T,
): ContinuationTokenFormat<T> {
  return {
    bindingKey: 'q',
    positionKey,
    isPosition,
    unreadable: 'Invalid continuation token: it was not produced by this store.',
    otherListing:
      'Invalid continuation token: it belongs to a different query (container, partition, filters or order).',
  };
}

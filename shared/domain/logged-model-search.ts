import type { LoggedModelDocument } from '../contracts/mlflow-artifacts.js';
import { ValidationError } from '../errors.js';
import type { Filter, OrderBy } from '../ports/metadata-store.js';
import { parseFilter } from './mlflow-filter.js';
import type { FilterClause, FilterDialect } from './mlflow-filter.js';

/**
 * The filter and order of MLflow 3 `logged-models/search` (pure): MLflow's filter syntax over a
 * logged model's attributes, params and tags, evaluated on stored documents, plus the part of it a
 * MetadataStore query can narrow by. Filters and ordering on metrics are refused: Tessera does not
 * link metrics to logged models yet.
 */

const ATTRIBUTE_FIELDS = {
  name: 'name',
  model_id: 'id',
  source_run_id: 'sourceRunId',
  model_type: 'modelType',
  status: 'status',
  creation_timestamp: 'creationTimestampMs',
  last_updated_timestamp: 'lastUpdatedTimestampMs',
} as const satisfies Record<string, keyof LoggedModelDocument>;
type Attribute = keyof typeof ATTRIBUTE_FIELDS;

export const LOGGED_MODEL_FILTER_DIALECT: FilterDialect = {
  // 'metric' is parsed so that it can be refused with a message that says why.
  entities: ['metric', 'param', 'tag', 'attribute'],
  numericAttributes: ['creation_timestamp', 'last_updated_timestamp'],
  stringAttributes: ['name', 'model_id', 'source_run_id', 'model_type', 'status'],
  listAttributes: ['name', 'model_id', 'source_run_id', 'status'],
};

/** Fields the search can be ordered by (MLflow's names and their aliases). */
const ORDER_FIELDS: Record<string, 'creationTimestampMs' | 'lastUpdatedTimestampMs' | 'name'> = {
  creation_timestamp: 'creationTimestampMs',
  creation_time: 'creationTimestampMs',
  last_updated_timestamp: 'lastUpdatedTimestampMs',
  last_updated_time: 'lastUpdatedTimestampMs',
  name: 'name',
};

/** The sort orders a search may use; the Cosmos DB composite indexes of its container (see wiring.ts). */
export const LOGGED_MODEL_ORDERINGS: OrderBy[][] = (
  ['creationTimestampMs', 'lastUpdatedTimestampMs', 'name'] as const
).flatMap((path) => [[{ path, direction: 'desc' as const }], [{ path, direction: 'asc' as const }]]);

/** Parses a search filter; ValidationError for a syntax error, a metric clause, or an unknown attribute. */
export function parseLoggedModelFilter(filter: string | undefined): FilterClause[] {
  const clauses = parseFilter(filter, LOGGED_MODEL_FILTER_DIALECT);
  for (const c of clauses) {
    if (c.entity === 'metric') {
      throw new ValidationError(
        `Invalid filter '${filter ?? ''}': metrics.${c.key} — logged models cannot be filtered by metrics here ` +
          '(Tessera does not link metrics to logged models yet); filter by name, model_id, source_run_id, ' +
          'model_type, status, creation_timestamp, last_updated_timestamp, params.<key> or tags.<key>.',
        { target: 'filter' },
      );
    }
  }
  return clauses.map((c) =>
    c.entity === 'attribute' && c.key === 'status' ? { ...c, value: fullStatus(c.value) } : c,
  );
}

/** `status = 'READY'` means LOGGED_MODEL_READY (the Python entity's name); full names pass unchanged. */
function fullStatus(value: FilterClause['value']): FilterClause['value'] {
  const one = (v: string): string => {
    const upper = v.toUpperCase();
    if (upper.startsWith('LOGGED_MODEL_')) return upper;
    return upper === 'FAILED' ? 'LOGGED_MODEL_UPLOAD_FAILED' : `LOGGED_MODEL_${upper}`;
  };
  if (Array.isArray(value)) return value.map(one);
  return typeof value === 'string' ? one(value) : value;
}

/** The clauses a MetadataStore query can apply exactly ('=', IN, numeric ranges on attributes). */
export function storeFiltersOf(clauses: readonly FilterClause[]): Filter[] {
  const out: Filter[] = [];
  for (const c of clauses) {
    if (c.entity !== 'attribute') continue;
    const path = ATTRIBUTE_FIELDS[c.key as Attribute];
    if (path === undefined) continue;
    if (c.comparator === '=') out.push({ path, op: '=', value: c.value });
    else if (c.comparator === 'IN' && Array.isArray(c.value) && c.value.length <= 256) {
      out.push({ path, op: 'in', value: c.value });
    } else if (typeof c.value === 'number' && ['<', '<=', '>', '>='].includes(c.comparator)) {
      out.push({ path, op: c.comparator as '<' | '<=' | '>' | '>=', value: c.value });
    }
  }
  return out;
}

/** Whether a stored model satisfies every clause. A param or tag the model lacks satisfies none. */
export function matchesLoggedModel(clauses: readonly FilterClause[], model: LoggedModelDocument): boolean {
  return clauses.every((c) => {
    let actual: string | number | undefined;
    if (c.entity === 'attribute') {
      actual = model[ATTRIBUTE_FIELDS[c.key as Attribute]] as string | number | undefined;
    } else {
      const list = c.entity === 'tag' ? model.tags : c.entity === 'param' ? model.params : [];
      actual = list.find((kv) => kv.key === c.key)?.value;
    }
    if (actual === undefined) return false;
    return compare(actual, c);
  });
}

function compare(actual: string | number, c: FilterClause): boolean {
  const v = c.value;
  switch (c.comparator) {
    case '=':
      return actual === v;
    case '!=':
      return actual !== v;
    case '<':
      return typeof v === 'number' && typeof actual === 'number' && actual < v;
    case '<=':
      return typeof v === 'number' && typeof actual === 'number' && actual <= v;
    case '>':
      return typeof v === 'number' && typeof actual === 'number' && actual > v;
    case '>=':
      return typeof v === 'number' && typeof actual === 'number' && actual >= v;
    case 'LIKE':
      return typeof v === 'string' && likePattern(v, false).test(String(actual));
    case 'ILIKE':
      return typeof v === 'string' && likePattern(v, true).test(String(actual));
    case 'IN':
      return Array.isArray(v) && v.includes(String(actual));
    case 'NOT IN':
      return Array.isArray(v) && !v.includes(String(actual));
  }
}

/** SQL LIKE: '%' any run of characters, '_' one character, everything else literal. */
function likePattern(pattern: string, ignoreCase: boolean): RegExp {
  const body = [...pattern]
    .map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

/**
 * The store order of a search: one `order_by` entry (creation_timestamp, last_updated_timestamp or
 * name, ascending by default as in MLflow); none means newest first.
 */
export function loggedModelOrder(
  orderBy: readonly { field_name: string; ascending?: boolean | undefined }[] | undefined,
): OrderBy[] {
  if (orderBy === undefined || orderBy.length === 0) return [{ path: 'creationTimestampMs', direction: 'desc' }];
  if (orderBy.length > 1) {
    throw new ValidationError(
      `Logged models can be ordered by one field; got ${orderBy.length} (${orderBy.map((o) => o.field_name).join(', ')}).`,
      { target: 'order_by' },
    );
  }
  const [first] = orderBy;
  const name = first?.field_name ?? '';
  const path = ORDER_FIELDS[name.replace(/^attributes?\./, '')];
  if (path === undefined) {
    throw new ValidationError(
      `Cannot order logged models by '${name}': use ${Object.keys(ORDER_FIELDS).join(', ')}` +
        (name.startsWith('metrics.')
          ? ' (ordering by metrics is not supported: metrics are not linked to logged models yet).'
          : '.'),
      { target: 'order_by' },
    );
  }
  return [{ path, direction: first?.ascending === false ? 'desc' : 'asc' }];
}

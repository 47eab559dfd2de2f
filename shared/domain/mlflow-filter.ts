/**
 * MLflow search filter and order_by strings, parsed into data (pure; no SQL, no I/O). Only `AND`
 * joins clauses, as in MLflow. Errors are ValidationErrors naming the offending token and position.
 */
import { ValidationError } from '../errors.js';

export type FilterEntity = 'metric' | 'param' | 'tag' | 'attribute';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface FilterClause {
  entity: FilterEntity;
  key: string;
  comparator: Comparator;
  /** A number for metrics and numeric attributes, a string otherwise; a list for IN / NOT IN. */
  value: number | string | string[];
}

export interface OrderClause {
  entity: FilterEntity;
  key: string;
  ascending: boolean;
}

/** What a caller (runs or experiments search) allows: attribute names, numeric or string. */
export interface FilterDialect {
  entities: readonly FilterEntity[];
  numericAttributes: readonly string[];
  stringAttributes: readonly string[];
  /** Attribute names that take IN / NOT IN lists. */
  listAttributes?: readonly string[];
}

export const RUN_FILTER_DIALECT: FilterDialect = {
  entities: ['metric', 'param', 'tag', 'attribute'],
  numericAttributes: ['start_time', 'end_time'],
  stringAttributes: ['status', 'run_name', 'user_id', 'artifact_uri', 'run_id'],
  listAttributes: ['run_id'],
};

export const EXPERIMENT_FILTER_DIALECT: FilterDialect = {
  entities: ['tag', 'attribute'],
  numericAttributes: ['creation_time', 'last_update_time'],
  stringAttributes: ['name'],
};

/** Experiments may also be ordered by id. */
export const EXPERIMENT_ORDER_DIALECT: FilterDialect = {
  ...EXPERIMENT_FILTER_DIALECT,
  entities: ['attribute'],
  numericAttributes: ['creation_time', 'last_update_time', 'experiment_id'],
};

const PREFIXES: Record<string, FilterEntity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

/** MLflow's aliases for run attributes. */
const ATTRIBUTE_ALIASES: Record<string, string> = {
  run_uuid: 'run_id',
  'run name': 'run_name',
  created: 'start_time',
  Created: 'start_time',
};

type TokenKind = 'ident' | 'string' | 'number' | 'op' | 'comma' | 'lparen' | 'rparen';
interface Token {
  kind: TokenKind;
  text: string;
  /** Unquoted value for strings; the key for qualified identifiers. */
  value: string;
  prefix?: string;
  pos: number;
}

function fail(source: string, what: string, token: Token | undefined, label: string): never {
  const found = token === undefined ? 'the end of the string' : `'${token.text}' at position ${token.pos}`;
  throw new ValidationError(`Invalid ${label} '${source}': expected ${what}, found ${found}.`, { target: label });
}

function tokenize(source: string, label: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const quoted = (start: number): [string, number] => {
    const quote = source[start];
    let j = start + 1;
    let out = '';
    while (j < source.length && source[j] !== quote) out += source[j++];
    if (j >= source.length) {
      throw new ValidationError(`Invalid ${label} '${source}': unterminated quote starting at position ${start}.`, {
        target: label,
      });
    }
    return [out, j + 1];
  };
  while (i < source.length) {
    const c = source[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === "'" || c === '"' || c === '`') {
      const [value, next] = quoted(i);
      tokens.push({ kind: 'string', text: source.slice(pos, next), value, pos });
      i = next;
    } else if (c === ',') {
      tokens.push({ kind: 'comma', text: c, value: c, pos });
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen', text: c, value: c, pos });
      i++;
    } else if (/[<>=!]/.test(c)) {
      const two = source.slice(i, i + 2);
      const op = ['>=', '<=', '!=', '=='].includes(two) ? two : c;
      if (op === '!') fail(source, 'an operator', { kind: 'op', text: c, value: c, pos }, label);
      tokens.push({ kind: 'op', text: op, value: op === '==' ? '=' : op, pos });
      i += op.length;
    } else if (/[-+\d.]/.test(c)) {
      const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(source.slice(i));
      if (m === null) fail(source, 'a number', { kind: 'number', text: c, value: c, pos }, label);
      tokens.push({ kind: 'number', text: m[0], value: m[0], pos });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))?.[0] ?? c;
      i += word.length;
      if (source[i] === '.' && PREFIXES[word] !== undefined) {
        i++;
        let key: string;
        const q = source[i];
        if (q === '`' || q === '"' || q === "'") {
          const [value, next] = quoted(i);
          key = value;
          i = next;
        } else {
          const m = /^[^\s=<>!,()'"]+/.exec(source.slice(i));
          if (m === null) fail(source, `a key after '${word}.'`, undefined, label);
          key = m[0];
          i += key.length;
        }
        tokens.push({ kind: 'ident', text: source.slice(pos, i), value: key, prefix: word, pos });
      } else {
        tokens.push({ kind: 'ident', text: word, value: word, pos });
      }
    } else {
      fail(source, 'a token', { kind: 'op', text: c, value: c, pos }, label);
    }
  }
  return tokens;
}

function identifier(token: Token, dialect: FilterDialect, source: string, label: string): [FilterEntity, string] {
  const entity: FilterEntity = token.prefix === undefined ? 'attribute' : (PREFIXES[token.prefix] ?? 'attribute');
  if (!dialect.entities.includes(entity)) fail(source, `one of ${dialect.entities.join(', ')}`, token, label);
  if (entity !== 'attribute') return [entity, token.value];
  const key = ATTRIBUTE_ALIASES[token.value] ?? token.value;
  if (!dialect.numericAttributes.includes(key) && !dialect.stringAttributes.includes(key)) {
    const names = [...dialect.stringAttributes, ...dialect.numericAttributes].join(', ');
    fail(source, `an attribute (${names})`, token, label);
  }
  return [entity, key];
}

/** Parses `metrics.acc > 0.5 and params.lr = '0.1'`; an empty or blank string is no clauses. */
export function parseFilter(source: string | undefined, dialect: FilterDialect = RUN_FILTER_DIALECT): FilterClause[] {
  const label = 'filter';
  if (source === undefined || source.trim() === '') return [];
  const tokens = tokenize(source, label);
  const clauses: FilterClause[] = [];
  let i = 0;
  for (;;) {
    const idToken = tokens[i++];
    if (idToken?.kind !== 'ident') fail(source, 'an identifier such as metrics.<key>', idToken, label);
    const [entity, key] = identifier(idToken, dialect, source, label);
    const numeric = entity === 'metric' || (entity === 'attribute' && dialect.numericAttributes.includes(key));
    const list = entity === 'attribute' && (dialect.listAttributes ?? []).includes(key);

    let opToken = tokens[i++];
    let comparator: Comparator;
    if (opToken?.kind === 'op') comparator = opToken.value as Comparator;
    else if (opToken?.kind === 'ident' && /^(like|ilike|in)$/i.test(opToken.value))
      comparator = opToken.value.toUpperCase() as Comparator;
    else if (opToken?.kind === 'ident' && /^not$/i.test(opToken.value) && /^in$/i.test(tokens[i]?.value ?? '')) {
      comparator = 'NOT IN';
      i++;
    } else fail(source, `a comparison operator after '${idToken.text}'`, opToken, label);

    const allowed: readonly Comparator[] = numeric
      ? ['=', '!=', '>', '>=', '<', '<=']
      : list
        ? ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN']
        : ['=', '!=', 'LIKE', 'ILIKE'];
    if (!allowed.includes(comparator))
      fail(source, `one of ${allowed.join(', ')} for '${idToken.text}'`, opToken, label);

    let value: FilterClause['value'];
    if (comparator === 'IN' || comparator === 'NOT IN') {
      opToken = tokens[i++];
      if (opToken?.kind !== 'lparen') fail(source, "'(' to open the IN list", opToken, label);
      const items: string[] = [];
      for (;;) {
        const item = tokens[i++];
        if (item?.kind !== 'string') fail(source, 'a quoted string in the IN list', item, label);
        items.push(item.value);
        const sep = tokens[i++];
        if (sep?.kind === 'rparen') break;
        if (sep?.kind !== 'comma') fail(source, "',' or ')' in the IN list", sep, label);
      }
      value = items;
    } else {
      const v = tokens[i++];
      if (numeric) {
        if (v?.kind !== 'number') fail(source, `a number to compare '${idToken.text}' with`, v, label);
        value = Number(v.value);
      } else {
        if (v?.kind !== 'string' || v.text.startsWith('`'))
          fail(source, `a quoted string to compare '${idToken.text}' with`, v, label);
        value = v.value;
      }
    }
    clauses.push({ entity, key, comparator, value });

    const next = tokens[i++];
    if (next === undefined) return clauses;
    if (next.kind !== 'ident' || !/^and$/i.test(next.value)) fail(source, "'AND' or the end", next, label);
  }
}

/** Parses order_by entries such as `metrics.acc DESC` or `attributes.start_time`. */
export function parseOrderBy(
  entries: readonly string[] | undefined,
  dialect: FilterDialect = RUN_FILTER_DIALECT,
): OrderClause[] {
  const label = 'order_by';
  return (entries ?? []).map((source) => {
    const tokens = tokenize(source, label);
    const idToken = tokens[0];
    if (idToken?.kind !== 'ident') fail(source, 'a column such as metrics.<key>', idToken, label);
    const [entity, key] = identifier(idToken, dialect, source, label);
    const dir = tokens[1];
    let ascending = true;
    if (dir !== undefined) {
      if (dir.kind !== 'ident' || !/^(asc|desc)$/i.test(dir.value)) fail(source, "'ASC' or 'DESC'", dir, label);
      ascending = /^asc$/i.test(dir.value);
    }
    if (tokens[2] !== undefined) fail(source, 'the end', tokens[2], label);
    return { entity, key, ascending };
  });
}

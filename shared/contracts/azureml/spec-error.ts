import type { z } from 'zod';
import { ValidationError } from '../../errors.js';
import type { ErrorDetail } from '../../errors.js';
import { branchRegistry, isRecord } from './common.js';

/**
 * The error every Azure ML spec problem becomes: it names the file, the key path (`jobs.train.inputs.lr`,
 * `''` for the whole document), what was expected and found, and what to do. The message reads
 * `data.yml: type: expected one of uri_file, uri_folder, mltable, found "csv" — fix the value or remove the key`;
 * YAML syntax errors add the line and column (`job.yml:3:10: ...`); for the others `line` and
 * `column` are set as fields when the key exists in the file.
 */
export class SpecError extends ValidationError {
  readonly file: string;
  /** Dotted path of the offending key, list items by index (`search_space.0.model_name`); '' for the document. */
  readonly keyPath: string;
  /** What is wrong, without the file and key path. */
  readonly problem: string;
  /** What to do about it. */
  readonly hint: string;
  /** 1-based line and column of the offending key in the file, when known. */
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(options: SpecErrorOptions) {
    const where =
      options.showPosition === true && options.line !== undefined
        ? `${options.file}:${options.line}:${options.column ?? 1}`
        : options.file;
    const key = options.keyPath === '' ? '' : `${options.keyPath}: `;
    super(`${where}: ${key}${options.problem} — ${options.hint}`, {
      target: options.keyPath === '' ? '(document)' : options.keyPath,
      details: options.details ?? [{ target: options.keyPath, message: options.problem }],
      cause: options.cause,
    });
    this.file = options.file;
    this.keyPath = options.keyPath;
    this.problem = options.problem;
    this.hint = options.hint;
    this.line = options.line;
    this.column = options.column;
  }
}

export interface SpecErrorOptions {
  file: string;
  keyPath: string;
  problem: string;
  hint: string;
  line?: number | undefined;
  column?: number | undefined;
  /** Put `:line:column` after the file name in the message (YAML syntax errors). */
  showPosition?: boolean;
  details?: readonly ErrorDetail[];
  cause?: unknown;
}

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Joins a path as the user writes it in `--set`: `jobs.train.inputs.0.path`. */
export function formatKeyPath(path: Path): string {
  return path.map((p) => String(p)).join('.');
}

/**
 * Turns a failed parse into a SpecError about its first problem (every problem is kept in
 * `details`). `input` is the value that was parsed, to quote what was found; `schema` lets an
 * unknown key be answered with the keys that are allowed there.
 */
export function specErrorFromZod(
  error: z.ZodError,
  options: { file: string; input: unknown; schema?: z.ZodType; cause?: unknown },
): SpecError {
  const issues = error.issues.map((issue) => describeIssue(issue, [], options.input, options.schema));
  let first = issues[0] ?? { keyPath: '', problem: 'is not valid', hint: 'check it against the az ml schema' };
  // `acount_key` reads better as "did you mean account_key" than as "account_key is missing".
  const misspelt = issues.find((i) => i.suggestedKeyPath !== undefined && i.suggestedKeyPath === first.keyPath);
  if (misspelt !== undefined) first = misspelt;
  return new SpecError({
    file: options.file,
    keyPath: first.keyPath,
    problem: first.problem,
    hint: first.hint,
    details: issues.map((i) => ({ target: i.keyPath, message: `${i.problem} — ${i.hint}` })),
    cause: options.cause ?? error,
  });
}

interface Described {
  keyPath: string;
  problem: string;
  hint: string;
  /** For an unknown key close to a known one: the key path of the known one. */
  suggestedKeyPath?: string;
}

function describeIssue(issue: Issue, prefix: Path, input: unknown, schema: z.ZodType | undefined): Described {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branch = bestBranch(issue.errors);
    const inner = branch[0];
    if (inner !== undefined) return describeIssue(inner, path, input, schema);
  }
  const found = valueAt(input, path);
  const keyPath = formatKeyPath(path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const known = schema === undefined ? [] : knownKeysAt(schema, input, path);
      const suggestion = closest(key, known);
      const more = issue.keys.length > 1 ? ` (also unknown here: ${issue.keys.slice(1).join(', ')})` : '';
      return {
        keyPath: formatKeyPath([...path, key]),
        ...(suggestion === undefined ? {} : { suggestedKeyPath: formatKeyPath([...path, suggestion]) }),
        problem: `unknown key${suggestion === undefined ? '' : ` — did you mean "${suggestion}"?`}${more}`,
        hint:
          known.length > 0 && known.length <= 24
            ? `remove it or use one of: ${known.join(', ')}`
            : 'remove it or correct its name; unknown keys are never ignored',
      };
    }
    case 'invalid_type': {
      if (found === undefined) {
        const detail = /\(one of [^)]*\)/.exec(issue.message)?.[0];
        return { keyPath, problem: `required key is missing${detail ? ` ${detail}` : ''}`, hint: 'add it' };
      }
      return {
        keyPath,
        problem: `expected ${describeExpected(issue.expected)}, found ${describeValue(found)}`,
        hint: 'fix the value',
      };
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      const expected = values.length === 1 ? `${values[0]}` : `one of ${values.join(', ')}`;
      return {
        keyPath,
        problem: `expected ${expected}, found ${describeValue(found)}`,
        hint: 'fix the value or remove the key',
      };
    }
    case 'too_small': {
      const unit = issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : '';
      const bound =
        issue.origin === 'string' && issue.minimum === 1
          ? 'a non-empty string'
          : `at least ${String(issue.minimum)}${unit}`;
      return { keyPath, problem: `expected ${bound}, found ${describeValue(found)}`, hint: 'fix the value' };
    }
    case 'too_big': {
      const unit = issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : '';
      return {
        keyPath,
        problem: `expected at most ${String(issue.maximum)}${unit}, found ${describeValue(found)}`,
        hint: 'fix the value',
      };
    }
    case 'invalid_format':
      return {
        keyPath,
        problem: `${formatMessage(issue.message)}, found ${describeValue(found)}`,
        hint: 'fix the value',
      };
    case 'custom': {
      const unsupported = isRecord(issue.params) && issue.params['unsupported'] === true;
      return unsupported
        ? {
            keyPath,
            problem: `${issue.message} (found ${describeValue(found)})`,
            hint: 'this file cannot be loaded until Tessera supports it',
          }
        : { keyPath, problem: issue.message, hint: 'fix the spec' };
    }
    default:
      return { keyPath, problem: `${issue.message}, found ${describeValue(found)}`, hint: 'fix the value' };
  }
}

function formatMessage(message: string): string {
  return message.replace(/^Invalid (string|input): /, '');
}

/**
 * Of a union's failed branches, the one the author most likely meant: the branch that got
 * furthest into the value (deepest path) and, among those, has the fewest problems. A branch that
 * failed on the value's own type ("expected string, found a mapping") is the least likely.
 */
function bestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] {
  let best: readonly Issue[] = branches[0] ?? [];
  let bestScore = -Infinity;
  for (const branch of branches) {
    const depth = Math.max(0, ...branch.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 1 : 0)));
    const typeMismatchAtRoot = branch.some((i) => i.code === 'invalid_type' && i.path.length === 0);
    const score = depth * 100 - branch.length - (typeMismatchAtRoot ? 1000 : 0);
    if (score > bestScore) {
      best = branch;
      bestScore = score;
    }
  }
  return best;
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isRecord(value) && typeof segment === 'string') value = value[segment];
    else return undefined;
  }
  return value;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
    case 'map':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    case 'int':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    default:
      return expected;
  }
}

/** A short, quoted rendering of what the user wrote. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (isRecord(value)) return 'a mapping';
  if (typeof value === 'string') {
    const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(text);
  }
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Schema introspection for "did you mean": which keys are allowed at a path.
// ---------------------------------------------------------------------------------------------

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
  options?: readonly z.ZodType[];
  valueType?: z.ZodType;
  element?: z.ZodType;
  left?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Unwraps wrappers until a structural schema (object, record, array) or a leaf is reached. */
function unwrap(schema: z.ZodType, value: unknown, depth = 0): z.ZodType | undefined {
  if (depth > 50) return undefined;
  const branch = branchRegistry.get(schema);
  if (branch !== undefined) {
    const picked = branch.pick(value);
    return picked === undefined ? undefined : unwrap(picked, value, depth + 1);
  }
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return def.innerType === undefined ? undefined : unwrap(def.innerType, value, depth + 1);
    case 'pipe': {
      // preprocess: `in` is the transform, `out` the schema; `a.pipe(b)`: look at `a`.
      const inner = def.in !== undefined && defOf(def.in).type !== 'transform' ? def.in : def.out;
      return inner === undefined ? undefined : unwrap(inner, value, depth + 1);
    }
    case 'lazy':
      return def.getter === undefined ? undefined : unwrap(def.getter(), value, depth + 1);
    case 'union': {
      const options = def.options ?? [];
      const structural = options
        .map((o) => unwrap(o, value, depth + 1))
        .filter((o): o is z.ZodType => o !== undefined)
        .filter((o) => {
          const t = defOf(o).type;
          return isRecord(value) ? t === 'object' || t === 'record' : Array.isArray(value) ? t === 'array' : true;
        });
      return structural[0];
    }
    case 'intersection':
      return def.left === undefined ? undefined : unwrap(def.left, value, depth + 1);
    default:
      return schema;
  }
}

/** The keys a strict object at `path` allows, or [] when that cannot be told. */
export function knownKeysAt(schema: z.ZodType, input: unknown, path: Path): string[] {
  let current: z.ZodType | undefined = schema;
  let value = input;
  for (const segment of path) {
    const s: z.ZodType | undefined = current === undefined ? undefined : unwrap(current, value);
    if (s === undefined) return [];
    const def = defOf(s);
    if (def.type === 'object') current = def.shape?.[String(segment)];
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'array') current = def.element;
    else return [];
    value = valueAt(value, [segment]);
  }
  const target = current === undefined ? undefined : unwrap(current, value);
  if (target === undefined) return [];
  const def = defOf(target);
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** The known key closest to a misspelt one (one or two edits, a swap counting as one), if any. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = key.toLowerCase();
  for (const candidate of known) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= (key.length <= 4 ? 1 : 2) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++)
    rows.push(Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      row[j] = d;
    }
  }
  return at(a.length, b.length);
}

import { ValidationError } from '../../shared/errors.js';

/**
 * Azure Functions HTTP route templates (ASP.NET Core route template syntax), so the local host
 * routes requests exactly as the Functions host does.
 *
 * Supported: literal segments (matched case-insensitively), `{name}`, optional `{name?}`, defaults
 * `{name=value}`, catch-all `{*rest}` / `{**rest}`, segments mixing literals and parameters
 * (`{name}.{ext}`, `{name}.{ext?}`), and the inline constraints int, long, bool, guid, datetime,
 * decimal, double, float, alpha, min, max, range, minlength, maxlength, length, regex and required,
 * chained as `{id:int:min(1)}`. `{{` and `}}` stand for literal braces.
 *
 * Decoding: `matchRoute` takes the path as it is on the wire (percent-encoded, without the route
 * prefix, no leading slash, no query). It splits on `/` first and then decodes each segment the way
 * Kestrel does for the Functions host: every valid escape is decoded except `%2F`, which stays
 * `%2F` in the value (so `files/a%2Fb` gives `{name}` = `a%2Fb`, and `a%20b` gives `a b`). A
 * trailing slash is ignored, except that a catch-all value keeps it.
 */
export interface CompiledRoute {
  readonly template: string;
  readonly segments: readonly RouteSegment[];
  readonly parameterNames: readonly string[];
}

export type RouteSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'parameter'; readonly parameter: RouteParameter }
  | { readonly kind: 'complex'; readonly parts: readonly RoutePart[]; readonly patterns: readonly RegExp[] };

export type RoutePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'parameter'; readonly parameter: RouteParameter };

export interface RouteParameter {
  readonly name: string;
  readonly catchAll: boolean;
  readonly optional: boolean;
  readonly defaultValue: string | undefined;
  readonly constraints: readonly RouteConstraint[];
}

export interface RouteConstraint {
  /** As written in the template, e.g. `range(1,10)`. */
  readonly text: string;
  readonly test: (value: string) => boolean;
}

/** Compiles a Functions route template; throws ValidationError naming the problem and the fix. */
export function compileRoute(template: string): CompiledRoute {
  if (typeof template !== 'string') throw new TypeError('compileRoute: template must be a string');
  const fail = (what: string, cause?: unknown): never => {
    throw new ValidationError(`Invalid route template "${template}": ${what}`, { target: 'route', cause });
  };
  let text = template;
  if (text.startsWith('~'))
    fail('it starts with \'~\'; write the route relative to the route prefix, e.g. "items/{id}".');
  if (text.startsWith('/')) text = text.slice(1);
  if (text.endsWith('/') && !text.endsWith('//')) text = text.slice(0, -1);
  const raw = text === '' ? [] : splitTemplate(text, fail);
  const segments: RouteSegment[] = [];
  const names = new Map<string, string>();
  raw.forEach((parts, index) => {
    const isLast = index === raw.length - 1;
    for (const part of parts) {
      if (part.kind !== 'parameter') continue;
      const key = part.parameter.name.toLowerCase();
      const previous = names.get(key);
      if (previous !== undefined)
        fail(`the parameter name "${part.parameter.name}" appears more than once; give each parameter its own name.`);
      names.set(key, part.parameter.name);
      if (part.parameter.catchAll && (!isLast || parts.length > 1)) {
        fail(`the catch-all "{*${part.parameter.name}}" must be the whole last segment, e.g. "files/{*path}".`);
      }
    }
    const only = parts[0];
    if (parts.length === 1 && only !== undefined) {
      segments.push(
        only.kind === 'literal'
          ? { kind: 'literal', text: only.text }
          : { kind: 'parameter', parameter: only.parameter },
      );
    } else {
      segments.push(compileComplexSegment(parts, fail));
    }
  });
  // A value can only be left out at the end of the path, so nothing required may follow an optional one.
  segments.forEach((segment, i) => {
    const optional =
      (segment.kind === 'parameter' && segment.parameter.optional) ||
      (segment.kind === 'complex' && segment.parts.some((p) => p.kind === 'parameter' && p.parameter.optional));
    const required = segments
      .slice(i + 1)
      .find(
        (s) =>
          s.kind !== 'parameter' ||
          (!s.parameter.optional && !s.parameter.catchAll && s.parameter.defaultValue === undefined),
      );
    if (optional && required !== undefined) {
      fail(
        `segment ${i + 1} is optional but segment ${segments.indexOf(required) + 1} after it is required; optional parameters must come last.`,
      );
    }
  });
  return { template, segments, parameterNames: [...names.values()] };
}

/**
 * Matches a percent-encoded path (no route prefix, no leading slash, no query) against a route.
 * Returns the route values (defaults filled in, optional values that are absent left out), or
 * undefined when the route does not match.
 */
export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  // [start offset, raw text] of each segment; one trailing slash is not a segment.
  const rawSegments: { start: number; text: string }[] = [];
  if (trimmed !== '') {
    let start = 0;
    for (;;) {
      const slash = trimmed.indexOf('/', start);
      if (slash < 0) {
        rawSegments.push({ start, text: trimmed.slice(start) });
        break;
      }
      rawSegments.push({ start, text: trimmed.slice(start, slash) });
      start = slash + 1;
      if (start === trimmed.length) break;
    }
  }
  const values: [string, string][] = [];
  const { segments } = route;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as RouteSegment;
    const raw = rawSegments[i];
    if (segment.kind === 'parameter' && segment.parameter.catchAll) {
      const rest = raw === undefined ? '' : decodeSegment(trimmed.slice(raw.start));
      const value = rest === '' ? segment.parameter.defaultValue : rest;
      if (value === undefined) return Object.fromEntries(values);
      if (!satisfies(segment.parameter, value)) return undefined;
      values.push([segment.parameter.name, value]);
      return Object.fromEntries(values);
    }
    if (raw === undefined) {
      if (segment.kind !== 'parameter') return undefined;
      const p = segment.parameter;
      if (p.defaultValue !== undefined) values.push([p.name, p.defaultValue]);
      else if (!p.optional) return undefined;
      continue;
    }
    const decoded = decodeSegment(raw.text);
    if (decoded === '') return undefined;
    if (segment.kind === 'literal') {
      if (decoded.toLowerCase() !== segment.text.toLowerCase()) return undefined;
    } else if (segment.kind === 'parameter') {
      if (!satisfies(segment.parameter, decoded)) return undefined;
      values.push([segment.parameter.name, decoded]);
    } else {
      const captured = matchComplexSegment(segment, decoded);
      if (captured === undefined) return undefined;
      values.push(...captured);
    }
  }
  if (rawSegments.length > segments.length) return undefined;
  return Object.fromEntries(values);
}

/**
 * ASP.NET Core's inbound precedence digit for each segment: 1 literal, 2 constrained parameter or
 * mixed segment, 3 parameter, 4 constrained catch-all, 5 catch-all. Lower is more specific.
 */
export function routeSpecificity(route: CompiledRoute): readonly number[] {
  return route.segments.map((segment) => {
    if (segment.kind === 'literal') return 1;
    if (segment.kind === 'complex') return 2;
    const p = segment.parameter;
    return (p.catchAll ? 5 : 3) - (p.constraints.length > 0 ? 1 : 0);
  });
}

/**
 * Orders routes so that the first match wins the way it does in Functions: segment by segment,
 * literals before constrained parameters before parameters before catch-alls (`workspaces/default`
 * before `workspaces/{name:alpha}` before `workspaces/{name}` before `workspaces/{*rest}`), then a
 * shorter template before a longer one, then by template text so the order is stable.
 */
export function compareRouteSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const da = routeSpecificity(a);
  const db = routeSpecificity(b);
  for (let i = 0; i < Math.max(da.length, db.length); i++) {
    const diff = (da[i] ?? 0) - (db[i] ?? 0);
    if (diff !== 0) return diff;
  }
  const ta = a.template.toLowerCase();
  const tb = b.template.toLowerCase();
  return ta < tb ? -1 : ta > tb ? 1 : a.template < b.template ? -1 : a.template > b.template ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Template parsing

type TemplatePart = RoutePart;

/** Splits a template into segments of literal and parameter parts; `{{`/`}}` are literal braces. */
function splitTemplate(text: string, fail: (what: string, cause?: unknown) => never): TemplatePart[][] {
  const segments: TemplatePart[][] = [];
  let parts: TemplatePart[] = [];
  let literal = '';
  const endLiteral = (): void => {
    if (literal !== '') parts.push({ kind: 'literal', text: literal });
    literal = '';
  };
  const endSegment = (): void => {
    endLiteral();
    if (parts.length === 0) fail("it has an empty segment ('//' or a trailing '/'); remove the extra '/'.");
    segments.push(parts);
    parts = [];
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/') {
      endSegment();
      i++;
    } else if (c === '{' && text[i + 1] === '{') {
      literal += '{';
      i += 2;
    } else if (c === '}' && text[i + 1] === '}') {
      literal += '}';
      i += 2;
    } else if (c === '?') {
      fail(`it has '?' outside a parameter at position ${i + 1}; '?' only marks an optional parameter, as in "{id?}".`);
    } else if (c === '}') {
      fail(`it has an unmatched '}' at position ${i + 1}; write a literal brace as '}}'.`);
    } else if (c === '{') {
      // The parameter ends at the first '}' not doubled; '{{' and '}}' inside stand for braces.
      let body = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) fail(`the parameter starting at position ${i + 1} has no closing '}'.`);
        const d = text[j];
        if (d === '}' && text[j + 1] === '}') {
          body += '}';
          j += 2;
        } else if (d === '{' && text[j + 1] === '{') {
          body += '{';
          j += 2;
        } else if (d === '}') {
          break;
        } else if (d === '{') {
          fail(`it has a '{' inside the parameter starting at position ${i + 1}; write a literal brace as '{{'.`);
        } else {
          body += d;
          j++;
        }
      }
      endLiteral();
      parts.push({ kind: 'parameter', parameter: parseParameter(body, fail) });
      i = j + 1;
    } else {
      literal += c;
      i++;
    }
  }
  endSegment();
  return segments;
}

/** Parses the inside of `{...}` the way ASP.NET Core's RouteParameterParser does. */
function parseParameter(body: string, fail: (what: string, cause?: unknown) => never): RouteParameter {
  let text = body;
  let catchAll = false;
  if (text.startsWith('**')) {
    catchAll = true;
    text = text.slice(2);
  } else if (text.startsWith('*')) {
    catchAll = true;
    text = text.slice(1);
  }
  let optional = false;
  if (text.endsWith('?')) {
    optional = true;
    text = text.slice(0, -1);
  }
  // Name: up to the first ':' or '=' (a leading one belongs to the name, as in ASP.NET).
  let i = 1;
  while (i < text.length && text[i] !== ':' && text[i] !== '=') i++;
  const name = text.slice(0, i);
  if (name === '' || /[{}/?*]/.test(name)) {
    fail(
      `"{${body}}" has an invalid parameter name; names are non-empty and cannot contain '{', '}', '/', '?' or '*' ` +
        `('?' marks an optional parameter at the end, '*' a catch-all at the start).`,
    );
  }
  const constraints: RouteConstraint[] = [];
  let defaultValue: string | undefined;
  let start = i;
  // i points at ':' (constraint), '=' (default) or the end.
  while (i < text.length) {
    if (text[i] === '=') {
      defaultValue = text.slice(i + 1);
      break;
    }
    // text[i] === ':'
    start = i + 1;
    let j = start;
    let constraintText: string | undefined;
    while (j < text.length) {
      const c = text[j];
      if (c === ':' || c === '=') break;
      if (c === '(') {
        // Arguments run to a ')' that ends the text or is followed by ':' or '='.
        let k = j + 1;
        while (
          k < text.length &&
          !(text[k] === ')' && (k + 1 === text.length || text[k + 1] === ':' || text[k + 1] === '='))
        )
          k++;
        if (k >= text.length) fail(`"{${body}}" has a constraint "${text.slice(start)}" without its closing ')'.`);
        constraintText = text.slice(start, k + 1);
        j = k + 1;
        break;
      }
      j++;
    }
    constraintText ??= text.slice(start, j);
    if (constraintText !== '') constraints.push(compileConstraint(constraintText, name, fail));
    i = j;
  }
  if (optional && defaultValue !== undefined)
    fail(`"{${body}}" is optional and has a default value; use one or the other.`);
  if (catchAll && optional) fail(`"{${body}}": a catch-all is already optional; remove the '?'.`);
  const parameter: RouteParameter = { name, catchAll, optional, defaultValue, constraints };
  if (defaultValue !== undefined && !satisfies(parameter, defaultValue)) {
    fail(`the default "${defaultValue}" of "{${body}}" does not satisfy its own constraints; change one of them.`);
  }
  return parameter;
}

function compileComplexSegment(
  parts: readonly TemplatePart[],
  fail: (what: string, cause?: unknown) => never,
): RouteSegment {
  let expectLiteral = false;
  parts.forEach((part, index) => {
    if (part.kind === 'parameter') {
      if (expectLiteral)
        fail(`a segment cannot contain two consecutive parameters; separate them with a literal or '/'.`);
      const p = part.parameter;
      const last = index === parts.length - 1;
      const previous = parts[index - 1];
      if (p.optional && !(last && previous?.kind === 'literal' && previous.text.endsWith('.'))) {
        fail(
          `"{${p.name}?}": in a segment with other text, only a last parameter after '.' can be optional, as in "{name}.{ext?}".`,
        );
      }
      if (p.defaultValue !== undefined)
        fail(`"{${p.name}=...}": a parameter that shares its segment with other text cannot have a default.`);
      expectLiteral = true;
    } else {
      expectLiteral = false;
    }
  });
  const source = (withOptional: boolean): string => {
    let re = '';
    parts.forEach((part, index) => {
      const next = parts[index + 1];
      if (!withOptional && next?.kind === 'parameter' && next.parameter.optional && part.kind === 'literal') {
        // "{name}.{ext?}" without the extension: drop the final '.' and the optional part
        re += escapeRegExp(part.text.slice(0, -1));
        return;
      }
      if (part.kind === 'literal') re += escapeRegExp(part.text);
      else if (!(part.parameter.optional && !withOptional)) re += '(.+)';
    });
    return `^${re}$`;
  };
  const hasOptional = parts.some((p) => p.kind === 'parameter' && p.parameter.optional);
  const patterns = hasOptional
    ? [new RegExp(source(true), 'is'), new RegExp(source(false), 'is')]
    : [new RegExp(source(true), 'is')];
  return { kind: 'complex', parts, patterns };
}

function matchComplexSegment(
  segment: Extract<RouteSegment, { kind: 'complex' }>,
  decoded: string,
): [string, string][] | undefined {
  // Greedy captures give the same split as ASP.NET's right-to-left literal search.
  for (const pattern of segment.patterns) {
    const m = pattern.exec(decoded);
    if (m === null) continue;
    const out: [string, string][] = [];
    let group = 1;
    for (const part of segment.parts) {
      if (part.kind !== 'parameter') continue;
      const value = m[group];
      if (value === undefined) {
        if (part.parameter.optional) continue;
        return undefined;
      }
      group++;
      if (!satisfies(part.parameter, value)) return undefined;
      out.push([part.parameter.name, value]);
    }
    return out;
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function satisfies(parameter: RouteParameter, value: string): boolean {
  return parameter.constraints.every((c) => c.test(value));
}

// ---------------------------------------------------------------------------------------------
// Constraints (ASP.NET Core semantics, invariant culture)

const SUPPORTED_CONSTRAINTS =
  'int, long, bool, guid, datetime, decimal, double, float, alpha, required, min(n), max(n), range(min,max), ' +
  'minlength(n), maxlength(n), length(n), length(min,max), regex(expression)';

/** .NET number parsing allows surrounding white space. */
const trimWhite = (s: string): string => s.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '');

function parseInteger(value: string): bigint | undefined {
  const s = trimWhite(value);
  return /^[+-]?\d+$/.test(s) ? BigInt(s) : undefined;
}

const INT32 = [-(2n ** 31n), 2n ** 31n - 1n] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

function inRange(n: bigint | undefined, [lo, hi]: readonly [bigint, bigint]): boolean {
  return n !== undefined && n >= lo && n <= hi;
}

function isDecimal(value: string): boolean {
  const s = trimWhite(value);
  const m = /^[+-]?(\d[\d,]*)?(?:\.(\d*))?$/.exec(s);
  if (m === null || !/\d/.test(s)) return false;
  const integer = (m[1] ?? '').replace(/,/g, '').replace(/^0+/, '');
  // System.Decimal holds up to 79,228,162,514,264,337,593,543,950,335.
  return integer.length < 29 || (integer.length === 29 && integer <= '79228162514264337593543950335');
}

function isFloat(value: string): boolean {
  const s = trimWhite(value);
  if (/^[+-]?(infinity|∞)$/i.test(s) || /^nan$/i.test(s)) return true;
  // Overflow parses to ±Infinity in .NET Core 3.0+, so any well-formed number is accepted.
  const m = /^[+-]?(\d[\d,]*)?(?:\.(\d*))?(?:[eE][+-]?\d+)?$/.exec(s);
  return m !== null && (m[1] !== undefined || (m[2] ?? '') !== '');
}

function isGuid(value: string): boolean {
  const s = trimWhite(value);
  const hex = '[0-9a-f]';
  const d = `${hex}{8}-${hex}{4}-${hex}{4}-${hex}{4}-${hex}{12}`;
  return new RegExp(`^(?:${hex}{32}|${d}|\\{${d}\\}|\\(${d}\\))$`, 'i').test(s);
}

function isDateTime(value: string): boolean {
  const s = trimWhite(value);
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (m === null) return false;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map((x) => (x === undefined ? undefined : Number(x))) as number[];
  if (year === undefined || month === undefined || day === undefined) return false;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 31;
  return day <= dim && year >= 1;
}

function compileConstraint(
  text: string,
  parameterName: string,
  fail: (what: string, cause?: unknown) => never,
): RouteConstraint {
  const m = /^([A-Za-z]+)(?:\((.*)\))?$/s.exec(text);
  const where = `the constraint "${text}" on "{${parameterName}}"`;
  if (m === null)
    return fail(`${where} is not of the form name or name(arguments). Supported: ${SUPPORTED_CONSTRAINTS}.`);
  const name = (m[1] ?? '').toLowerCase();
  const args = m[2];
  const numbers = (count: number[]): bigint[] => {
    const list = args === undefined ? [] : args.split(',');
    const parsed = list.map((a) => parseInteger(a));
    if (!count.includes(list.length) || parsed.some((n) => n === undefined || !inRange(n, INT64))) {
      fail(
        `${where} needs ${count.join(' or ')} whole-number argument(s), e.g. ${name}(${count.includes(2) ? '1,10' : '1'}).`,
      );
    }
    return parsed as bigint[];
  };
  const noArgs = (): void => {
    if (args !== undefined) fail(`${where} takes no arguments; write "${name}".`);
  };
  const make = (test: (value: string) => boolean): RouteConstraint => ({ text, test });
  switch (name) {
    case 'int':
      noArgs();
      return make((v) => inRange(parseInteger(v), INT32));
    case 'long':
      noArgs();
      return make((v) => inRange(parseInteger(v), INT64));
    case 'bool':
      noArgs();
      return make((v) => /^(true|false)$/i.test(trimWhite(v)));
    case 'guid':
      noArgs();
      return make(isGuid);
    case 'datetime':
      noArgs();
      return make(isDateTime);
    case 'decimal':
      noArgs();
      return make(isDecimal);
    case 'double':
    case 'float':
      noArgs();
      return make(isFloat);
    case 'alpha':
      noArgs();
      return make((v) => /^[a-z]*$/i.test(v));
    case 'required':
      noArgs();
      return make((v) => v !== '');
    case 'min': {
      const [min = 0n] = numbers([1]);
      return make((v) => {
        const n = parseInteger(v);
        return inRange(n, INT64) && (n as bigint) >= min;
      });
    }
    case 'max': {
      const [max = 0n] = numbers([1]);
      return make((v) => {
        const n = parseInteger(v);
        return inRange(n, INT64) && (n as bigint) <= max;
      });
    }
    case 'range': {
      const [min = 0n, max = 0n] = numbers([2]);
      if (min > max) fail(`${where} has min ${min} above max ${max}; write range(${max},${min}).`);
      return make((v) => {
        const n = parseInteger(v);
        return inRange(n, INT64) && (n as bigint) >= min && (n as bigint) <= max;
      });
    }
    case 'minlength': {
      const [min = 0n] = numbers([1]);
      return make((v) => BigInt(v.length) >= min);
    }
    case 'maxlength': {
      const [max = 0n] = numbers([1]);
      return make((v) => BigInt(v.length) <= max);
    }
    case 'length': {
      const [a = 0n, b] = numbers([1, 2]);
      if (b !== undefined && a > b) fail(`${where} has min ${a} above max ${b}; write length(${b},${a}).`);
      return make((v) => (b === undefined ? BigInt(v.length) === a : BigInt(v.length) >= a && BigInt(v.length) <= b));
    }
    case 'regex': {
      if (args === undefined || args === '') return fail(`${where} needs a pattern, e.g. regex(^\\d{{3}}$).`);
      let re: RegExp | undefined;
      try {
        // Like ASP.NET: case-insensitive and not anchored (write ^...$ to match the whole value).
        re = new RegExp(args, 'i');
      } catch (cause) {
        fail(`${where} is not a valid regular expression (${(cause as Error).message}).`, cause);
      }
      const pattern = re as RegExp;
      return make((v) => pattern.test(v));
    }
    default:
      return fail(`${where} is unknown. Supported: ${SUPPORTED_CONSTRAINTS}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes percent-escapes like Kestrel: all valid ones except %2F; invalid UTF-8 stays as is. */
function decodeSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    run
      .split(/(%2[Ff])/)
      .map((piece) => (/^%2[Ff]$/.test(piece) ? piece : safeDecode(piece)))
      .join(''),
  );
}

function safeDecode(piece: string): string {
  try {
    return decodeURIComponent(piece);
  } catch {
    return piece;
  }
}

import { ValidationError } from '../errors.js';

/**
 * Continuation tokens of the storage adapters: base64url JSON of where a listing stopped, bound to
 * the listing it was made for (a list prefix, a query digest), so that a token handed to another
 * listing is refused instead of resuming at a wrong place. Each adapter names the two JSON
 * properties; a token always carries the binding first, then the position.
 */
export interface ContinuationTokenFormat<T> {
  /** JSON property holding what the token is bound to. */
  readonly bindingKey: string;
  /** JSON property holding where the listing resumes. */
  readonly positionKey: string;
  /** Whether a decoded position has the type (and shape) this listing resumes from. */
  readonly isPosition: (value: unknown) => value is T;
  /** Message of the ValidationError for a token that cannot be read. */
  readonly unreadable: string;
  /** Message for a readable token that was made for another listing; `unreadable` when left out. */
  readonly otherListing?: string;
}

export function encodeContinuationToken<T>(format: ContinuationTokenFormat<T>, binding: string, position: T): string {
  const token = { [format.bindingKey]: binding, [format.positionKey]: position };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** The JSON object a base64url token holds; undefined when it holds none (garbage, not JSON, not an object). */
export function readTokenFields(token: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

/** The position `token` resumes from; a ValidationError (target 'continuation') unless it was made for `binding`. */
export function decodeContinuationToken<T>(format: ContinuationTokenFormat<T>, token: string, binding: string): T {
  const fields = readTokenFields(token);
  const position = fields?.[format.positionKey];
  if (fields === undefined || !format.isPosition(position)) throw invalidToken(format.unreadable);
  if (fields[format.bindingKey] !== binding) throw invalidToken(format.otherListing ?? format.unreadable);
  return position;
}

function invalidToken(message: string): ValidationError {
  return new ValidationError(message, { target: 'continuation' });
}

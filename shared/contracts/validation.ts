import type { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { ErrorDetail } from '../errors.js';

/**
 * Turns zod's failure data into the platform's ValidationError: `target` is the dotted path of the
 * first problem (`rootLabel`, e.g. 'body', when the problem is the value itself); every problem is
 * kept in `details`.
 */
export function toValidationError(error: z.ZodError, rootLabel = '(value)'): ValidationError {
  const details: ErrorDetail[] = error.issues.map((issue) => {
    const segments = issue.path.map((p) => String(p));
    // An unknown key is reported on its parent; point at the key itself, which is what the user must fix.
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) segments.push(issue.keys[0] ?? '');
    const path = segments.join('.');
    return { target: path || rootLabel, message: issue.message };
  });
  const first = details[0] ?? { target: rootLabel, message: 'Invalid value' };
  const message =
    details.length === 1
      ? `${first.target}: ${first.message}`
      : details.map((d) => `${d.target}: ${d.message}`).join('; ');
  return new ValidationError(message, { target: first.target, details, cause: error });
}

/** `schema.parse` that throws a ValidationError naming the bad path instead of a ZodError. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, rootLabel?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw toValidationError(result.error, rootLabel);
  return result.data;
}

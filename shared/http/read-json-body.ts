import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { AppError, ValidationError } from '../errors.js';
import { toValidationError } from '../contracts/validation.js';

export interface ReadJsonBodyOptions {
  /** Largest accepted body (default 1 MiB). */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * Reads and validates a JSON body. Malformed JSON is a 400 with target 'body'; a schema failure is
 * a 400 whose target is the dotted path of the bad field. An empty body is `undefined`, so a
 * schema decides whether a body is required.
 */
export async function readJsonBody<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  options: ReadJsonBodyOptions = {},
): Promise<z.output<S>> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw tooLarge(maxBytes);

  let value: unknown;
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(
        `The request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
        {
          target: 'body',
        },
      );
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw toValidationError(result.error, 'body');
  return result.data;
}

/** Validates the query string (as a plain object of strings) against a schema; target = the parameter. */
export function readQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.output<S> {
  const result = schema.safeParse(Object.fromEntries(request.query.entries()));
  if (!result.success) throw toValidationError(result.error, 'query');
  return result.data;
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('PayloadTooLarge', `The request body is larger than ${maxBytes} bytes.`, { target: 'body' });
}

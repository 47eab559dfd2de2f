import { randomUUID } from 'node:crypto';
import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { isAppError } from '../errors.js';
import type { AppError } from '../errors.js';
import { INVALID_TOKEN_TARGET } from '../services/authenticator.js';
import { jsonResponse } from './json-response.js';

/** The error body every endpoint returns. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    target?: string;
    details?: { target: string; message: string }[];
  };
}

/**
 * The one mapping from errors to HTTP. An AppError answers with its status and message; anything
 * else is a fault of ours: logged in full with a correlation id, answered with a generic 500 that
 * carries only that id (never a stack or an internal message).
 */
export function toErrorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  if (isAppError(err)) return fromAppError(err, context);
  const correlationId = correlationIdOf(context);
  context.error(`Unhandled error (correlation id ${correlationId})`, err);
  const body: ErrorBody = {
    error: {
      code: 'InternalError',
      message: `An unexpected error occurred; correlation id ${correlationId}. The server log has the details.`,
    },
  };
  return jsonResponse(500, body, { 'x-correlation-id': correlationId });
}

function fromAppError(err: AppError, context: InvocationContext): HttpResponseInit {
  const headers: Record<string, string> = {};
  if (err.status >= 500) {
    // Our fault even if expected (bad config, an unreachable dependency): the operator needs it in the log.
    const correlationId = correlationIdOf(context);
    context.error(`${err.code} (correlation id ${correlationId}): ${err.message}`, err);
    headers['x-correlation-id'] = correlationId;
  }
  if (err.code === 'Unauthorized') headers['www-authenticate'] = wwwAuthenticate(err);
  if (err.retryable && err.status === 503) headers['retry-after'] = '5';
  const body: ErrorBody = {
    error: {
      code: err.code,
      message: err.message,
      ...(err.target === undefined ? {} : { target: err.target }),
      ...(err.details.length === 0
        ? {}
        : { details: err.details.map((d) => ({ target: d.target, message: d.message })) }),
    },
  };
  return jsonResponse(err.status, body, headers);
}

/** RFC 6750: no error code when credentials were missing, `invalid_token` when they were rejected. */
function wwwAuthenticate(err: AppError): string {
  if (err.target !== INVALID_TOKEN_TARGET) return 'Bearer realm="tessera"';
  const description = err.message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '');
  return `Bearer realm="tessera", error="invalid_token", error_description="${description}"`;
}

function correlationIdOf(context: InvocationContext): string {
  const id = context.invocationId;
  // A context built without an invocation id says 'unknown'; a correlation id must still correlate.
  return id && id !== 'unknown' ? id : randomUUID();
}

import type { HttpHandler, HttpMethod, HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { toValidationError } from '../contracts/validation.js';
import { ValidationError } from '../errors.js';
import { registerHttp } from '../function-catalog.js';
import { defineHttp } from './define-http.js';
import type { HttpCall } from './define-http.js';
import type { ErrorBody } from './error-response.js';
import { jsonResponse } from './json-response.js';
import { readJsonBody, readQuery } from './read-json-body.js';

/** MLflow clients take the tracking URI `<host>/api/workspaces/{ws}/mlflow` and append `/api/2.0/mlflow/...`. */
export const MLFLOW_ROUTE_PREFIX = 'workspaces/{ws}/mlflow/api/2.0/mlflow';
/** The proxied artifact API beside it: `mlflow-artifacts:` URIs resolve to `<tracking URI>/api/2.0/mlflow-artifacts/artifacts/...`. */
export const MLFLOW_ARTIFACTS_ROUTE = 'workspaces/{ws}/mlflow/api/2.0/mlflow-artifacts/artifacts';

/** MLflow's error codes and statuses for the platform's error codes. */
const MLFLOW_ERRORS: Record<string, { code: string; status?: number }> = {
  ValidationError: { code: 'INVALID_PARAMETER_VALUE', status: 400 },
  NotFound: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  Conflict: { code: 'RESOURCE_ALREADY_EXISTS', status: 400 },
  PreconditionFailed: { code: 'INVALID_STATE', status: 400 },
  Unauthorized: { code: 'UNAUTHENTICATED' },
  Forbidden: { code: 'PERMISSION_DENIED' },
  PayloadTooLarge: { code: 'INVALID_PARAMETER_VALUE' },
  Unsupported: { code: 'NOT_IMPLEMENTED' },
  Transient: { code: 'TEMPORARILY_UNAVAILABLE' },
};

/** An MLflow error body: `{ "error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..." }`. */
export interface MlflowErrorBody {
  error_code: string;
  message: string;
}

/** Rewrites the shared error response (`{ error: { code, message } }`) into MLflow's shape. */
export function toMlflowErrorResponse(response: HttpResponseInit): HttpResponseInit {
  const body = response.jsonBody as Partial<ErrorBody> | undefined;
  const error = body?.error;
  if (error === undefined || typeof error.code !== 'string') return response;
  const mapped = MLFLOW_ERRORS[error.code] ?? { code: 'INTERNAL_ERROR' };
  const mlflow: MlflowErrorBody = { error_code: mapped.code, message: error.message };
  return { ...response, status: mapped.status ?? response.status ?? 500, jsonBody: mlflow };
}

/**
 * An MLflow endpoint: workspace auth, the input read from the query string (GET) or the JSON body
 * (POST, PATCH, DELETE) and validated by `schema`, a 200 JSON answer, and errors in MLflow's shape.
 * Route parameters other than `ws` (e.g. `{model_id}` of `logged-models/{model_id}`) are added to
 * the input and win over fields of the same name in the body or query.
 */
export function defineMlflowHttp<S extends z.ZodType>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  schema: S,
  handler: (call: HttpCall<'workspace'>, input: z.output<S>, ws: string) => Promise<unknown>,
): HttpHandler {
  return withMlflowErrors(
    defineHttp({
      auth: 'workspace',
      async handler(call) {
        const input = await readMlflowInput(call.request, method, schema);
        return jsonResponse(200, await handler(call, input, call.workspace ?? ''));
      },
    }),
  );
}

/** Answers a handler's errors (4xx, 5xx) in MLflow's shape; other responses pass unchanged. */
export function withMlflowErrors(inner: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context) => {
    const response = await inner(request, context);
    return (response.status ?? 200) >= 400 ? toMlflowErrorResponse(response) : response;
  };
}

async function readMlflowInput<S extends z.ZodType>(
  request: HttpRequest,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  schema: S,
): Promise<z.output<S>> {
  const routeParams = Object.entries(request.params).filter(([name]) => name !== 'ws');
  if (routeParams.length === 0) {
    return method === 'GET' ? readQuery(request, schema) : readJsonBody(request, schema);
  }
  let fields: unknown;
  let label: string;
  if (method === 'GET') {
    fields = Object.fromEntries(request.query.entries());
    label = 'query';
  } else {
    // The schema is applied below, once the route parameters are merged in.
    fields = (await readJsonBody(request, z.unknown())) ?? {};
    label = 'body';
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      throw new ValidationError('The request body must be a JSON object.', { target: 'body' });
    }
  }
  const result = schema.safeParse({ ...(fields as object), ...Object.fromEntries(routeParams) });
  if (!result.success) throw toValidationError(result.error, label);
  return result.data;
}

/** Registers one MLflow endpoint, e.g. `registerMlflow('mlflow-runs-get', 'GET', 'runs/get', handler)`. */
export function registerMlflow(name: string, method: HttpMethod, endpoint: string, handler: HttpHandler): void {
  registerHttp(name, { methods: [method], route: `${MLFLOW_ROUTE_PREFIX}/${endpoint}`, handler });
}

/**
 * Registers one endpoint of the proxied artifact API: `tail` '' for the listing route, or
 * `{*path}` for one artifact (`.../mlflow-artifacts/artifacts/{*path}`).
 */
export function registerMlflowArtifacts(
  name: string,
  method: HttpMethod,
  tail: '' | '{*path}',
  handler: HttpHandler,
): void {
  registerHttp(name, {
    methods: [method],
    route: tail === '' ? MLFLOW_ARTIFACTS_ROUTE : `${MLFLOW_ARTIFACTS_ROUTE}/${tail}`,
    handler,
  });
}

import type { HttpHandler, HttpMethod, HttpRequest, HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';
import { registerHttp } from '../function-catalog.js';
import { defineHttp } from './define-http.js';
import type { HttpCall } from './define-http.js';
import type { ErrorBody } from './error-response.js';
import { jsonResponse } from './json-response.js';
import { readJsonBody, readQuery } from './read-json-body.js';

/** MLflow clients take the tracking URI `<host>/api/workspaces/{ws}/mlflow` and append `/api/2.0/mlflow/...`. */
export const MLFLOW_ROUTE_PREFIX = 'workspaces/{ws}/mlflow/api/2.0/mlflow';

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
 * (POST) and validated by `schema`, a 200 JSON answer, and errors in MLflow's shape.
 */
export function defineMlflowHttp<S extends z.ZodType>(
  method: 'GET' | 'POST',
  schema: S,
  handler: (call: HttpCall<'workspace'>, input: z.output<S>, ws: string) => Promise<unknown>,
): HttpHandler {
  const inner = defineHttp({
    auth: 'workspace',
    async handler(call) {
      const input = method === 'GET' ? readQuery(call.request, schema) : await readJsonBody(call.request, schema);
      return jsonResponse(200, await handler(call, input, call.workspace ?? ''));
    },
  });
  return async (request: HttpRequest, context) => {
    const response = await inner(request, context);
    return (response.status ?? 200) >= 400 ? toMlflowErrorResponse(response) : response;
  };
}

/** Registers one MLflow endpoint, e.g. `registerMlflow('mlflow-runs-get', 'GET', 'runs/get', handler)`. */
export function registerMlflow(name: string, method: HttpMethod, endpoint: string, handler: HttpHandler): void {
  registerHttp(name, { methods: [method], route: `${MLFLOW_ROUTE_PREFIX}/${endpoint}`, handler });
}

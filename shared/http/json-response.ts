import type { HttpResponseInit } from '@azure/functions';

/** A JSON response; `body` is serialised by the Functions library. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

/** 204 No Content. */
export function noContent(headers: Record<string, string> = {}): HttpResponseInit {
  return { status: 204, headers };
}

// The shared HTTP helpers every trigger uses.
export { defineHttp } from './define-http.js';
export type { HttpAuth, HttpCall, HttpDefinition } from './define-http.js';
export { toErrorResponse } from './error-response.js';
export type { ErrorBody } from './error-response.js';
export { artifactResponse, jsonResponse, noContent } from './json-response.js';
export { readJsonBody, readQuery } from './read-json-body.js';
export type { ReadJsonBodyOptions } from './read-json-body.js';

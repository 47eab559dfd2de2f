import type { HttpResponseInit } from '@azure/functions';
import type { Readable } from 'node:stream';
import type { ArtifactInfo } from '../ports/artifact-store.js';

/** A JSON response; `body` is serialised by the Functions library. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

/** 204 No Content. */
export function noContent(headers: Record<string, string> = {}): HttpResponseInit {
  return { status: 204, headers };
}

/** 200 with an artifact's bytes and its content type, length, etag and time. */
export function artifactResponse(
  info: Pick<ArtifactInfo, 'contentType' | 'size' | 'etag' | 'lastModified'>,
  body: Readable,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status: 200,
    body,
    headers: {
      'content-type': info.contentType,
      'content-length': String(info.size),
      etag: info.etag,
      'last-modified': new Date(info.lastModified).toUTCString(),
      ...headers,
    },
  };
}

import { Readable } from 'node:stream';
import type { UploadTarget } from '../../shared/services/upload-service.js';
import { DEFAULT_UPLOAD_DATASTORE } from '../../shared/services/upload-service.js';
import { MLClientError } from './ml-client.js';

export interface HttpUploadTargetOptions {
  /** Base URL of the host, e.g. http://127.0.0.1:7071 (a trailing /api is accepted). */
  endpoint: string;
  token?: string;
  workspace: string;
  /** Default workspaceblobstore. */
  datastore?: string;
  fetch?: typeof fetch;
}

/**
 * The CLI's UploadTarget: the datastore upload route of the REST API
 * (PUT/HEAD /api/workspaces/{ws}/datastores/{datastore}/paths/{*path}). Bodies are streamed.
 */
export function createHttpUploadTarget(options: HttpUploadTargetOptions): UploadTarget {
  const endpoint = options.endpoint.replace(/\/+$/, '').replace(/\/api$/, '');
  const datastore = options.datastore ?? DEFAULT_UPLOAD_DATASTORE;
  const fetchFn = options.fetch ?? fetch;
  const urlOf = (path: string): string =>
    `${endpoint}/api/workspaces/${encodeURIComponent(options.workspace)}/datastores/${encodeURIComponent(datastore)}` +
    `/paths/${path.split('/').map(encodeURIComponent).join('/')}`;
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    accept: 'application/json',
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...extra,
  });

  async function send(method: string, path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetchFn(urlOf(path), { method, ...init });
    } catch (err) {
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new MLClientError(
        0,
        'ConnectionFailed',
        `Cannot reach ${endpoint} to upload ${path} (${reason}). Is the host running?`,
      );
    }
  }

  return {
    datastore,

    async exists(path) {
      const res = await send('HEAD', path, { headers: headers() });
      if (res.status === 404) return undefined;
      if (!res.ok) throw await failure('HEAD', path, res);
      return res.headers.get('x-content-sha256') ?? undefined;
    },

    async put(path, stream, sha256, size) {
      const res = await send('PUT', path, {
        headers: headers({
          'content-type': 'application/octet-stream',
          'content-length': String(size),
          'x-content-sha256': sha256,
        }),
        body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
        // Node's fetch streams a request body only in half-duplex mode.
        duplex: 'half',
      } as RequestInit);
      if (!res.ok) throw await failure('PUT', path, res);
      await res.body?.cancel();
    },

    async copyByHash(path, sha256) {
      const res = await send('PUT', path, {
        headers: headers({ 'x-content-sha256': sha256, 'x-tessera-copy': 'by-hash' }),
      });
      if (res.status === 404) {
        await res.body?.cancel();
        return false;
      }
      if (!res.ok) throw await failure('PUT', path, res);
      await res.body?.cancel();
      return true;
    },
  };

  async function failure(method: string, path: string, res: Response): Promise<MLClientError> {
    const text = method === 'HEAD' ? '' : await res.text().catch(() => '');
    let error: { code?: unknown; message?: unknown; target?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    return new MLClientError(
      res.status,
      typeof error?.code === 'string' ? error.code : `Http${res.status}`,
      typeof error?.message === 'string'
        ? error.message
        : `${method} ${datastore}/${path} failed with HTTP ${res.status}${text === '' ? '' : `: ${text.slice(0, 300)}`}`,
      typeof error?.target === 'string' ? error.target : undefined,
    );
  }
}

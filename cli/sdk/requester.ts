/** How operation groups reach the REST API; provided by MLClient. Paths are relative to /api/. */
export type Requester = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * Sends an authenticated GET and returns the raw response when it is a success (downloads, logs);
 * a failure becomes an MLClientError with the server's code and message.
 */
export type RawRequester = (path: string, init?: { signal?: AbortSignal }) => Promise<Response>;

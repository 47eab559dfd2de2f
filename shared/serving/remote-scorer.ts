/**
 * A deployment scored by another host (on Azure, a Python deployment's Container Apps revision):
 * each request is POSTed to the deployment's URL with its body and content type, and the answer's
 * status, body and content type come back as they are, so a 4xx of the user's script stays the
 * user's. The gate's abort (request_timeout_ms) cancels the call and answers 504; a host that
 * cannot be reached answers 502 naming the URL, never the platform's 500.
 */
import { errorResponse, type Scorer, type ScoreRequest, type ScoreResponse } from './scorer.js';

export interface RemoteScorerOptions {
  /** The deployment's scoring URL. */
  url: string;
  /** Headers every call carries (the host's caller check), resolved once per scorer. */
  headers?: Readonly<Record<string, string>>;
  /** The request headers passed on besides content-type (lower-case names); default: none. */
  forwardHeaders?: readonly string[];
  fetch?: typeof fetch;
}

/** Headers of the answer passed back to the client. */
const ANSWER_HEADERS = ['retry-after'];

export function createRemoteScorer(options: RemoteScorerOptions): Scorer {
  const call = options.fetch ?? fetch;
  let closed = false;
  return {
    async score(req: ScoreRequest, signal: AbortSignal): Promise<ScoreResponse> {
      if (closed) return errorResponse(503, 'ScorerClosed', 'the deployment was replaced');
      if (signal.aborted) return timedOut();
      const headers: Record<string, string> = { ...options.headers };
      headers['content-type'] = req.contentType ?? 'application/json';
      for (const name of options.forwardHeaders ?? []) {
        const value = req.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      let res: Response;
      let body: Buffer;
      try {
        res = await call(options.url, { method: 'POST', headers, body: req.body, signal });
        body = Buffer.from(await res.arrayBuffer());
      } catch (error) {
        if (signal.aborted) return timedOut();
        return errorResponse(
          502,
          'ScoringHostUnreachable',
          `the deployment's scoring host ${new URL(options.url).host} could not be reached: ${describe(error)}`,
        );
      }
      const answer: ScoreResponse = {
        status: res.status,
        body,
        contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      };
      const passed = Object.fromEntries(
        ANSWER_HEADERS.flatMap((name) => {
          const value = res.headers.get(name);
          return value === null ? [] : [[name, value]];
        }),
      );
      if (Object.keys(passed).length > 0) answer.headers = passed;
      return answer;
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}

function timedOut(): ScoreResponse {
  return errorResponse(504, 'RequestTimeout', "the request timed out waiting for the deployment's scoring host");
}

/** fetch's TypeError says only 'fetch failed'; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is its cause. */
function describe(error: unknown): string {
  const e = error as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const cause = e?.cause;
  const detail =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : typeof e?.message === 'string'
          ? e.message
          : String(error);
  return detail;
}

/**
 * Forwarding from a scoring replica to the host's main process (local/replica.ts): the request as
 * it came — method, path and query, headers, body streamed (or the body the replica already read) —
 * and the answer back as the main process gave it. Hop-by-hop headers are the two connections' own.
 */
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

/** Headers that describe one connection, not the request (RFC 9110 §7.6.1), and Expect (answered here). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'expect'];

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

export type Forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => void;

/** Forwards requests to `origin` (the main process's loopback listener) over kept-alive connections. */
export function forwarder(origin: URL, logger: Logger): { forward: Forward; close(): void } {
  const agent = new Agent({ keepAlive: true });
  const forward: Forward = (req, res, body) => send(req, res, body, true);
  const send = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, firstTry: boolean): void => {
    const headers = withoutHopByHop(req.headers);
    if (body !== undefined) headers['content-length'] = String(body.length);
    else if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
    const upstream = request(
      { host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.headers));
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A kept-alive connection the main process closed just as it was reused: send it once more
      // on a new one when the request can be sent again (its body read here, or none).
      const replayable = body !== undefined || req.method === 'GET' || req.method === 'HEAD';
      if (firstTry && upstream.reusedSocket && err.code === 'ECONNRESET' && replayable) {
        send(req, res, body, false);
        return;
      }
      logger.error(`replica: forwarding ${req.method} ${req.url} to the host's main process failed`, err);
      const payload = JSON.stringify({
        error: {
          code: 'BadGateway',
          message: `The host's main process did not answer (${err.message}); retry the request.`,
        },
      });
      res.writeHead(502, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
      res.end(payload);
    });
    // A caller that goes away takes its forwarded request with it.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body !== undefined) upstream.end(body);
    else if (req.method === 'GET' || req.method === 'HEAD') upstream.end();
    else req.pipe(upstream);
  };
  return { forward, close: () => agent.destroy() };
}

/**
 * The HTTP front door: /api/<route> to HTTP triggers (route templates of Functions),
 * /admin/functions, and the Durable management API. Requests become RPC http data and go
 * through the worker invocation pipeline, exactly as the Functions host hands them over.
 */
import { createServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FunctionRegistry, RegisteredFunction, RpcParameterBinding } from '../registry.js';
import type { Invoker } from '../invoke.js';
import { InvocationError } from '../invoke.js';
import type { Logger } from '../logger.js';
import { compileRoute, matchRoute, compareRouteSpecificity } from './route-template.js';
import type { CompiledRoute } from './route-template.js';
import { DURABLE_PREFIX, handleDurableRequest, isAuthorised } from '../durable/management-api.js';
import type { DurableApiOptions } from '../durable/management-api.js';
import { DIRECT_LANE_KEY, type DirectHandler, type DirectResponse } from '../../shared/http/direct-lane.js';

export interface HttpRouteEntry {
  fn: RegisteredFunction;
  template: string;
  route: CompiledRoute;
  methods: string[];
}

export interface FrontDoorOptions {
  registry: FunctionRegistry;
  invoker: Invoker;
  logger: Logger;
  routePrefix: string;
  /** The durable management API; absent in a scoring replica, which forwards it. */
  durable?: DurableApiOptions;
  /** Whether /admin routes need the system key (when the host is reachable beyond loopback). */
  adminNeedsKey: boolean;
  /** Runs a non-HTTP function by hand (POST /admin/functions/{name}); returns an error message or undefined. */
  invokeByAdmin: (fn: RegisteredFunction, input: string | undefined) => string | undefined;
  maxBodyBytes?: number;
  /** Whether functions' direct-lane handlers are used (see directHandlerFor); default true. */
  directLane?: boolean;
  /**
   * Set in a scoring replica (local/replica.ts): this process serves direct lanes only, and hands
   * every other request (and those a lane declines, with the body it read) to the host's main process.
   */
  replica?: { forward(req: IncomingMessage, res: ServerResponse, body?: Buffer): void };
}

/** Matched paths the front door remembers (cleared when full). */
const MAX_CACHED_MATCHES = 1024;

/**
 * The plain handler the app offered for function `name`, if any: the host calls it instead of the
 * invocation pipeline (no RPC typed data, no programming-model request and response objects, no
 * hooks), for routes where that pipeline would cost more than the work (the scoring URI).
 */
function directHandlerFor(name: string): DirectHandler | undefined {
  const lanes = (globalThis as Record<symbol, unknown>)[Symbol.for(DIRECT_LANE_KEY)];
  if (!(lanes instanceof Map)) return undefined;
  const handler: unknown = lanes.get(name);
  return typeof handler === 'function' ? (handler as DirectHandler) : undefined;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(payload ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
  res.end(payload);
}

function sendDirect(res: ServerResponse, method: string, out: DirectResponse): void {
  res.writeHead(out.status, { ...out.headers, 'content-length': Buffer.byteLength(out.body) });
  res.end(method === 'HEAD' ? undefined : out.body);
}

function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

class BodyTooLarge extends Error {}

/** The request body; past `limit` bytes, BodyTooLarge (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}

export function buildRouteTable(registry: FunctionRegistry): HttpRouteEntry[] {
  const entries = registry.byTrigger('httpTrigger').map((fn) => {
    const template = typeof fn.trigger.route === 'string' && fn.trigger.route !== '' ? fn.trigger.route : fn.name;
    const methods = (
      Array.isArray(fn.trigger.methods) && fn.trigger.methods.length > 0
        ? (fn.trigger.methods as string[])
        : ['GET', 'POST']
    ).map((m) => m.toUpperCase());
    return { fn, template, route: compileRoute(template), methods };
  });
  return entries.sort((a, b) => compareRouteSpecificity(a.route, b.route));
}

function toHeaderRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

interface RpcHttpResponse {
  statusCode?: string | number;
  headers?: Record<string, string>;
  cookies?: {
    name: string;
    value: string;
    path?: string;
    domain?: string;
    secure?: boolean;
    httpOnly?: boolean;
    sameSite?: number | string;
    maxAge?: number;
    expires?: unknown;
  }[];
  body?: { bytes?: Uint8Array; string?: string; json?: string };
}

function cookieHeader(c: NonNullable<RpcHttpResponse['cookies']>[number]): string {
  const parts = [`${c.name}=${c.value}`];
  if (c.path) parts.push(`Path=${c.path}`);
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (typeof c.maxAge === 'number') parts.push(`Max-Age=${c.maxAge}`);
  if (c.secure) parts.push('Secure');
  if (c.httpOnly) parts.push('HttpOnly');
  return parts.join('; ');
}

export class FrontDoor {
  private routes: HttpRouteEntry[];
  readonly server: Server;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: FrontDoorOptions) {
    this.routes = buildRouteTable(options.registry);
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024 * 1024;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const correlationId = randomUUID();
        options.logger.error(
          `host: unhandled error serving ${req.method} ${req.url} (correlation id ${correlationId})`,
          err,
        );
        if (!res.headersSent)
          sendJson(
            res,
            500,
            errorBody('InternalError', `The host failed to serve the request; correlation id ${correlationId}.`, {
              correlationId,
            }),
          );
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 65_000;
  }

  /** Matches of recently requested method + path (the scoring URI is requested over and over). */
  private readonly matches = new Map<string, { entry: HttpRouteEntry; params: Record<string, string> }>();

  get routeTable(): readonly HttpRouteEntry[] {
    return this.routes;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.options.replica !== undefined) return this.handleInReplica(req, res, this.options.replica);
    const durable = this.options.durable;
    if (durable === undefined) throw new Error('the front door of the main process needs the durable API options');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();

    if (path.startsWith(DURABLE_PREFIX)) {
      const auth = isAuthorised(path, url, req.headers, durable.systemKey, constantTimeEqual);
      if (!auth.ok)
        return sendJson(
          res,
          401,
          errorBody('Unauthorized', 'The durable management API needs the host system key (?code=...).'),
        );
      let body: Buffer;
      try {
        body = await readBody(req, 16 * 1024 * 1024);
      } catch (err) {
        if (err instanceof BodyTooLarge)
          return sendJson(res, 413, errorBody('PayloadTooLarge', 'The body exceeds 16 MiB.'));
        throw err;
      }
      const out = await handleDurableRequest(durable, method, auth.rest, url, req.headers, body);
      return sendJson(res, out.status, out.body, out.headers);
    }

    if (path === '/admin/functions' || path.startsWith('/admin/functions/')) {
      if (this.options.adminNeedsKey) {
        const code = url.searchParams.get('code') ?? (req.headers['x-functions-key'] as string | undefined) ?? '';
        if (!constantTimeEqual(code, durable.systemKey)) {
          return sendJson(
            res,
            401,
            errorBody('Unauthorized', 'The admin API needs the host system key (?code=... or x-functions-key).'),
          );
        }
      }
      const name = decodeURIComponent(path.slice('/admin/functions'.length).replace(/^\/+|\/+$/g, ''));
      if (name === '') {
        if (method !== 'GET') return sendJson(res, 405, errorBody('MethodNotAllowed', 'Use GET.'), { allow: 'GET' });
        return sendJson(res, 200, this.describeFunctions());
      }
      const fn = this.options.registry.get(name);
      if (!fn) return sendJson(res, 404, errorBody('NotFound', `No function named '${name}' is registered.`));
      if (method === 'GET')
        return sendJson(
          res,
          200,
          this.describeFunctions().find((f) => (f as { name: string }).name === fn.name),
        );
      if (method !== 'POST')
        return sendJson(res, 405, errorBody('MethodNotAllowed', 'Use GET or POST.'), { allow: 'GET, POST' });
      let input: string | undefined;
      const text = (await readBody(req, 1024 * 1024)).toString('utf8').trim();
      if (text !== '') {
        try {
          const parsed = JSON.parse(text) as { input?: unknown };
          if (parsed.input !== undefined && typeof parsed.input !== 'string') throw new Error('input must be a string');
          input = parsed.input;
        } catch {
          return sendJson(
            res,
            400,
            errorBody('ValidationError', 'The body must be JSON like {"input": "..."} (input is a string).', {
              target: 'input',
            }),
          );
        }
      }
      const problem = this.options.invokeByAdmin(fn, input);
      if (problem) return sendJson(res, 400, errorBody('ValidationError', problem));
      return sendJson(res, 202, undefined);
    }

    const routePath = this.routePathOf(path);
    if (routePath === undefined) {
      return sendJson(
        res,
        404,
        errorBody('NotFound', `No route matches ${method} ${path}; the API lives under /${this.options.routePrefix}/.`),
      );
    }
    const { matched, allowed } = this.match(method, routePath);
    if (!matched) {
      if (allowed.size > 0) {
        return sendJson(
          res,
          405,
          errorBody('MethodNotAllowed', `${method} is not allowed on ${path}; allowed: ${[...allowed].join(', ')}.`),
          {
            allow: [...allowed].join(', '),
          },
        );
      }
      return sendJson(res, 404, errorBody('NotFound', `No route matches ${method} ${path}.`));
    }

    const body = await this.routeBody(req, res);
    if (body === undefined) return;
    const direct = this.options.directLane === false ? undefined : directHandlerFor(matched.entry.fn.name);
    if (direct !== undefined) {
      const out = await direct({ method, headers: toHeaderRecord(req), params: matched.params, body, replica: false });
      if (out !== undefined) return sendDirect(res, method, out);
    }
    await this.invokeHttp(matched.entry, matched.params, req, res, url, method, body);
  }

  /** The body of a request to a function's route; past the limit, a 413 is sent and undefined returned. */
  private async routeBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
    try {
      return await readBody(req, this.maxBodyBytes);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      sendJson(res, 413, errorBody('PayloadTooLarge', `The request body exceeds ${this.maxBodyBytes} bytes.`));
      return undefined;
    }
  }

  /** The path below the route prefix; undefined when the path is outside it. */
  private routePathOf(path: string): string | undefined {
    const prefix = this.options.routePrefix ? `/${this.options.routePrefix}` : '';
    if (prefix && path !== prefix && !path.startsWith(prefix + '/')) return undefined;
    return path.slice(prefix.length).replace(/^\/+/, '');
  }

  /** The route `method` + `routePath` matches, or the methods the path would allow. */
  private match(
    method: string,
    routePath: string,
  ): { matched: { entry: HttpRouteEntry; params: Record<string, string> } | undefined; allowed: Set<string> } {
    const matchKey = `${method} ${routePath}`;
    const cached = this.matches.get(matchKey);
    const allowed = new Set<string>();
    if (cached !== undefined) return { matched: { entry: cached.entry, params: { ...cached.params } }, allowed };
    for (const entry of this.routes) {
      const params = matchRoute(entry.route, routePath);
      if (!params) continue;
      if (entry.methods.includes(method)) {
        // The route table never changes: the same method and path always match the same way.
        if (this.matches.size >= MAX_CACHED_MATCHES) this.matches.clear();
        this.matches.set(matchKey, { entry, params: { ...params } });
        return { matched: { entry, params }, allowed };
      }
      entry.methods.forEach((m) => allowed.add(m));
    }
    return { matched: undefined, allowed };
  }

  /** A scoring replica's requests: direct lanes here, everything else to the host's main process. */
  private async handleInReplica(
    req: IncomingMessage,
    res: ServerResponse,
    replica: NonNullable<FrontDoorOptions['replica']>,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const query = (req.url ?? '/').indexOf('?');
    const routePath = this.routePathOf(query < 0 ? (req.url ?? '/') : (req.url ?? '/').slice(0, query));
    const matched = routePath === undefined ? undefined : this.match(method, routePath).matched;
    const direct = matched === undefined ? undefined : directHandlerFor(matched.entry.fn.name);
    if (matched === undefined || direct === undefined) return replica.forward(req, res);
    const body = await this.routeBody(req, res);
    if (body === undefined) return;
    const out = await direct({ method, headers: toHeaderRecord(req), params: matched.params, body, replica: true });
    if (out === undefined) return replica.forward(req, res, body);
    sendDirect(res, method, out);
  }

  private async invokeHttp(
    entry: HttpRouteEntry,
    params: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    body: Buffer,
  ): Promise<void> {
    const headers = toHeaderRecord(req);
    const host = headers.host ?? 'localhost';
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const http = {
      method,
      url: `http://${host}${url.pathname}${url.search}`,
      headers,
      query,
      params,
      body: { bytes: body },
    };
    const inputData: RpcParameterBinding[] = [{ name: entry.fn.triggerName, data: { http } }];
    const triggerMetadata: Record<string, { json: string }> = {
      Query: { json: JSON.stringify(query) },
      Headers: { json: JSON.stringify(headers) },
      ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { json: JSON.stringify(v) }])),
    };
    let rpc: RpcHttpResponse | undefined;
    let invocationId: string;
    try {
      const result = await this.options.invoker.invoke(entry.fn, inputData, { triggerMetadata });
      invocationId = result.invocationId;
      const returned = result.response.returnValue as { http?: RpcHttpResponse } | undefined;
      const out = result.response.outputData?.find(
        (o) => (entry.fn.metadata.bindings[o.name]?.type ?? '').toLowerCase() === 'http',
      );
      rpc = returned?.http ?? (out?.data as { http?: RpcHttpResponse } | undefined)?.http;
    } catch (err) {
      const id = err instanceof InvocationError ? err.invocationId : randomUUID();
      this.options.logger.error(
        `[${entry.fn.name}] unhandled error (correlation id ${id})`,
        err instanceof InvocationError ? err.inner : err,
      );
      return sendJson(
        res,
        500,
        errorBody('InternalError', `The function failed; correlation id ${id}.`, { correlationId: id }),
      );
    }
    if (!rpc) {
      res.writeHead(204, { 'x-invocation-id': invocationId });
      res.end();
      return;
    }
    const status = Number(rpc.statusCode ?? 200) || 200;
    const outHeaders: Record<string, string | string[]> = { ...(rpc.headers ?? {}) };
    const cookies = (rpc.cookies ?? []).map(cookieHeader);
    if (cookies.length) outHeaders['set-cookie'] = cookies;
    const b = rpc.body;
    const payload = b?.bytes
      ? Buffer.from(b.bytes)
      : b?.string !== undefined
        ? Buffer.from(b.string)
        : b?.json !== undefined
          ? Buffer.from(b.json)
          : Buffer.alloc(0);
    res.writeHead(status, outHeaders);
    res.end(method === 'HEAD' ? undefined : payload);
  }

  describeFunctions(): unknown[] {
    return [...this.options.registry.functions.values()].map((fn) => {
      const t = fn.trigger;
      const out: Record<string, unknown> = { name: fn.name, trigger: t.type };
      if (t.type === 'httpTrigger') {
        const entry = this.routes.find((r) => r.fn === fn);
        out.route = `${this.options.routePrefix ? this.options.routePrefix + '/' : ''}${entry?.template ?? fn.name}`;
        out.methods = entry?.methods;
        out.authLevel = t.authLevel;
      } else if (t.type === 'timerTrigger') {
        out.schedule = t.schedule;
        out.runOnStartup = t.runOnStartup === true;
      } else if (t.type === 'blobTrigger') {
        out.path = t.path;
      } else if (t.type === 'serviceBusTrigger') {
        out.queueName = t.queueName;
      }
      out.bindings = Object.values(fn.metadata.bindings).map((b) => ({ type: b.type, direction: b.direction }));
      return out;
    });
  }

  /**
   * Listens on host:port. With `handOff`, every new connection is first offered to it, paused with
   * nothing read (local/replicas.ts hands it to a scoring replica); one it does not take is served here.
   */
  listen(port: number, host: string, handOff?: (socket: Socket) => boolean): Promise<number> {
    const server =
      handOff === undefined
        ? this.server
        : this.track(
            createNetServer({ pauseOnConnect: true }, (socket) => {
              if (!handOff(socket)) this.adopt(socket);
            }),
          );
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** A second listener on a free loopback port whose connections are always served here (what replicas forward to). */
  listenInternal(): Promise<number> {
    return this.listen(0, '127.0.0.1', () => false);
  }

  /** Serves a connection accepted elsewhere (a listener of listen(), or one handed over by the main process). */
  adopt(socket: Socket): void {
    this.server.emit('connection', socket);
    socket.resume();
  }

  private readonly listeners: NetServer[] = [];

  private track(server: NetServer): NetServer {
    this.listeners.push(server);
    return server;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      let open = this.listeners.length + 1;
      const closed = () => {
        if (--open === 0) resolve();
      };
      for (const listener of this.listeners) listener.close(closed);
      this.server.close(closed);
      this.server.closeAllConnections();
    });
  }
}

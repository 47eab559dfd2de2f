/**
 * The direct lane: an HTTP function may also hand the local host a plain handler for its route,
 * which the host then calls without the Functions invocation pipeline — no RPC typed data, no
 * @azure/functions HttpRequest/HttpResponse (undici Request, Response and web streams), no
 * invocation hooks. On a 2-core machine that pipeline costs about 0.4 ms a request, more than
 * scoring a model, so the scoring URI takes this lane (as Azure ML serves scoring from its own
 * inference host, apart from the management API). Every other route, and every route on Azure,
 * goes through the function as registered.
 *
 * The protocol is a Map on `globalThis` under `Symbol.for(DIRECT_LANE_KEY)`, from function name to
 * handler, so that the host needs nothing from the app but the name of the function it matched.
 * The host reads it per request, so a handler offered after the app loaded is still found.
 * TESSERA_DIRECT_HTTP=off turns the lanes off (every route through the pipeline, as on Azure).
 *
 * The host's scoring replicas (local/replica.ts) serve only direct lanes. A handler may decline a
 * request by resolving undefined: the host then serves it the normal way — through the pipeline,
 * or, in a replica, by forwarding it to the host's main process.
 */

export const DIRECT_LANE_KEY = 'tessera.local-host.direct-http';

export interface DirectRequest {
  method: string;
  /** Lower-cased header names, as node:http gives them; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The route's parameters, as the function would see them in `request.params`. */
  params: Record<string, string>;
  body: Buffer;
  /** True in a scoring replica: a process with its own scorers that forwards what it declines. */
  replica: boolean;
}

export interface DirectResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Resolves undefined to decline the request (see above). */
export type DirectHandler = (request: DirectRequest) => Promise<DirectResponse | undefined>;

/** Offers `handler` for the HTTP function `functionName` (registered with registerHttp as well). */
export function offerDirectLane(functionName: string, handler: DirectHandler): void {
  const g = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(DIRECT_LANE_KEY);
  let lanes = g[key] as Map<string, DirectHandler> | undefined;
  if (lanes === undefined) g[key] = lanes = new Map();
  lanes.set(functionName, handler);
}

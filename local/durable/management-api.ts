/**
 * The Durable Functions HTTP management API under /runtime/webhooks/durabletask/, as the
 * real DurableClient calls it (see ../../../shared/docs/durable-protocol.md, "Durable client").
 */
import type { IncomingMessage } from 'node:http';
import { DurableRequestError } from './engine.js';
import type { DurableEngine } from './engine.js';
import { EventTypeName } from './history.js';
import type { HistoryEvent } from './history.js';
import type { InstanceRow, RuntimeStatus } from './store.js';
import { decodeContinuationToken, encodeContinuationToken } from '../../shared/domain/continuation-token.js';
import type { ContinuationTokenFormat } from '../../shared/domain/continuation-token.js';
import { ValidationError } from '../../shared/errors.js';

export const DURABLE_PREFIX = '/runtime/webhooks/durabletask/';
const STATUSES: RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'Failed',
  'Terminated',
  'ContinuedAsNew',
  'Suspended',
];

export interface DurableHttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface DurableApiOptions {
  engine: DurableEngine;
  taskHubName: string;
  /** Origin that links in responses point at, e.g. http://127.0.0.1:7071 */
  publicOrigin: string;
  systemKey: string;
}

function parseJsonOrNull(text: string | null): unknown {
  if (text === null || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function error(status: number, message: string): DurableHttpResponse {
  const code =
    { 400: 'BadRequest', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 410: 'Gone', 501: 'NotSupported' }[
      status
    ] ?? 'Error';
  return { status, body: { error: { code, message } } };
}

export function managementUrls(
  options: Pick<DurableApiOptions, 'taskHubName' | 'publicOrigin' | 'systemKey'>,
  instanceId: string,
) {
  const base = `${options.publicOrigin}${DURABLE_PREFIX}instances/${encodeURIComponent(instanceId)}`;
  const q = `taskHub=${options.taskHubName}&connection=Storage&code=${options.systemKey}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${base}?${q}`,
    sendEventPostUri: `${base}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${base}/terminate?reason={text}&${q}`,
    rewindPostUri: `${base}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${base}?${q}`,
    restartPostUri: `${base}/restart?${q}`,
    suspendPostUri: `${base}/suspend?reason={text}&${q}`,
    resumePostUri: `${base}/resume?reason={text}&${q}`,
  };
}

/** The input binding a `durableClient` extra input receives. */
export function durableClientBinding(
  options: Pick<DurableApiOptions, 'taskHubName' | 'publicOrigin' | 'systemKey'>,
  rpcOrigin: string,
) {
  const base = `${options.publicOrigin}${DURABLE_PREFIX}`;
  const q = `code=${options.systemKey}`;
  const urls = managementUrls(options, 'INSTANCEID');
  return {
    taskHubName: options.taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]?${q}`,
      createAndWaitOnNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
    },
    managementUrls: { ...urls, statusQueryGetUri: urls.statusQueryGetUri.replace('INSTANCEID', 'INSTANCEID') },
    baseUrl: `${options.publicOrigin}${DURABLE_PREFIX.slice(0, -1)}`,
    requiredQueryStringParameters: q,
    rpcBaseUrl: `${rpcOrigin}${DURABLE_PREFIX}k/${options.systemKey}/`,
  };
}

function historyForStatus(events: HistoryEvent[], withOutput: boolean): unknown[] {
  return events.map((e) => {
    const { EventType: type, IsPlayed: _p, EventId: _id, ...rest } = e;
    const out: Record<string, unknown> = { EventType: EventTypeName[type] ?? String(type), ...rest };
    if (!withOutput) delete out.Result;
    for (const k of ['Input', 'Result']) {
      if (typeof out[k] === 'string') out[k] = parseJsonOrNull(out[k] as string);
    }
    return out;
  });
}

export function statusBody(
  inst: InstanceRow,
  options: { showInput: boolean; history?: unknown[] },
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: inst.name,
    instanceId: inst.instanceId,
    runtimeStatus: inst.status,
    input: options.showInput ? parseJsonOrNull(inst.input) : null,
    customStatus: parseJsonOrNull(inst.customStatus),
    output: parseJsonOrNull(inst.output),
    createdTime: new Date(inst.createdAt).toISOString(),
    lastUpdatedTime: new Date(inst.updatedAt).toISOString(),
  };
  if (options.history) {
    body.historyEvents = options.history;
    body.history = options.history;
  }
  return body;
}

function parseTime(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new DurableRequestError(400, `${name} '${value}' is not an ISO 8601 date-time.`);
  return t;
}

function parseStatuses(value: string | null): RuntimeStatus[] | undefined {
  if (!value) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of list) {
    if (!STATUSES.includes(s as RuntimeStatus)) {
      throw new DurableRequestError(400, `runtimeStatus '${s}' is not one of ${STATUSES.join(', ')}.`);
    }
  }
  return list as RuntimeStatus[];
}

/** Where a listing of instances resumes, bound to its filter so a token cannot resume another listing. */
const INSTANCE_PAGE: ContinuationTokenFormat<{ c: number; i: string }> = {
  bindingKey: 'f',
  positionKey: 'p',
  isPosition: (v): v is { c: number; i: string } =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { c?: unknown }).c === 'number' &&
    typeof (v as { i?: unknown }).i === 'string',
  unreadable: 'The x-ms-continuation-token header is not a token this host issued.',
  otherListing: 'The x-ms-continuation-token was issued for a listing with other filters; list again without it.',
};

export function isAuthorised(
  path: string,
  url: URL,
  headers: IncomingMessage['headers'],
  systemKey: string,
  constantTimeEqual: (a: string, b: string) => boolean,
): { ok: boolean; rest: string } {
  let rest = path.slice(DURABLE_PREFIX.length);
  if (rest.startsWith('k/')) {
    const slash = rest.indexOf('/', 2);
    const key = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash + 1);
    return { ok: constantTimeEqual(key, systemKey), rest };
  }
  const code = url.searchParams.get('code') ?? (headers['x-functions-key'] as string | undefined) ?? '';
  return { ok: constantTimeEqual(code, systemKey), rest };
}

export async function handleDurableRequest(
  options: DurableApiOptions,
  method: string,
  rest: string,
  url: URL,
  headers: IncomingMessage['headers'],
  body: Buffer,
): Promise<DurableHttpResponse> {
  const { engine } = options;
  const parts = rest.split('/').map((p) => decodeURIComponent(p));
  try {
    if (parts[0] === 'orchestrators' && parts[1]) {
      if (method !== 'POST') return error(405, 'Use POST to start an orchestration.');
      const text = body.toString('utf8').trim();
      let inputJson: string | null = null;
      if (text !== '') {
        try {
          JSON.parse(text);
        } catch {
          return error(400, 'The request body must be JSON (the orchestration input) or empty.');
        }
        inputJson = text;
      }
      const inst = engine.startNew(parts[1], parts[2] || undefined, inputJson);
      const links = managementUrls(options, inst.instanceId);
      return { status: 202, headers: { location: links.statusQueryGetUri, 'retry-after': '10' }, body: links };
    }
    if (parts[0] === 'instances') {
      const id = parts[1] ?? '';
      if (id === '') {
        const filter = {
          runtimeStatus: parseStatuses(url.searchParams.get('runtimeStatus')),
          createdFrom: parseTime(url.searchParams.get('createdTimeFrom'), 'createdTimeFrom'),
          createdTo: parseTime(url.searchParams.get('createdTimeTo'), 'createdTimeTo'),
          instanceIdPrefix: url.searchParams.get('instanceIdPrefix') ?? undefined,
        };
        if (method === 'GET') {
          const top = Math.min(Math.max(Number(url.searchParams.get('top') ?? 100) || 100, 1), 1000);
          const token = headers['x-ms-continuation-token'];
          const binding = JSON.stringify(filter);
          const position =
            typeof token === 'string' && token !== ''
              ? decodeContinuationToken(INSTANCE_PAGE, token, binding)
              : undefined;
          const after = position && { createdAt: position.c, instanceId: position.i };
          const rows = engine.list({ ...filter, limit: top + 1, ...(after ? { after } : {}) });
          const page = rows.slice(0, top);
          const last = page[page.length - 1];
          const showInput = url.searchParams.get('showInput') !== 'false';
          const responseHeaders: Record<string, string> = {};
          if (rows.length > top && last) {
            responseHeaders['x-ms-continuation-token'] = encodeContinuationToken(INSTANCE_PAGE, binding, {
              c: last.createdAt,
              i: last.instanceId,
            });
          }
          return { status: 200, headers: responseHeaders, body: page.map((r) => statusBody(r, { showInput })) };
        }
        if (method === 'DELETE') {
          if (filter.createdFrom === undefined) return error(400, 'Purging by filter needs createdTimeFrom.');
          const deleted = engine.purgeBy(filter);
          return deleted === 0
            ? { status: 404, body: { instancesDeleted: 0 } }
            : { status: 200, body: { instancesDeleted: deleted } };
        }
        return error(405, `${method} is not supported on instances/.`);
      }
      const op = parts[2];
      if (!op) {
        if (method === 'GET') {
          const inst = engine.getInstance(id);
          if (!inst) return error(404, `No instance with ID '${id}' was found.`);
          const showHistory = url.searchParams.get('showHistory') === 'true';
          const history = showHistory
            ? historyForStatus(engine.getHistory(id), url.searchParams.get('showHistoryOutput') === 'true')
            : undefined;
          const body = statusBody(inst, {
            showInput: url.searchParams.get('showInput') !== 'false',
            ...(history ? { history } : {}),
          });
          const running =
            inst.status === 'Pending' ||
            inst.status === 'Running' ||
            inst.status === 'Suspended' ||
            inst.status === 'ContinuedAsNew';
          return { status: running ? 202 : 200, body };
        }
        if (method === 'DELETE') {
          const deleted = engine.purge(id);
          return deleted
            ? { status: 200, body: { instancesDeleted: 1 } }
            : { status: 404, body: { instancesDeleted: 0 } };
        }
        return error(405, `${method} is not supported on an instance.`);
      }
      if (method !== 'POST') return error(405, `Use POST for ${op}.`);
      const reason = url.searchParams.get('reason') ?? '';
      switch (op) {
        case 'raiseEvent': {
          const name = parts[3];
          if (!name) return error(400, 'The event name is missing: POST instances/{id}/raiseEvent/{eventName}.');
          const text = body.toString('utf8').trim();
          if (text !== '') {
            try {
              JSON.parse(text);
            } catch {
              return error(400, 'The event data must be JSON.');
            }
          }
          engine.raiseEvent(id, name, text === '' ? null : text);
          return { status: 202 };
        }
        case 'terminate':
          engine.terminate(id, reason);
          return { status: 202 };
        case 'suspend':
          engine.suspend(id, reason);
          return { status: 202 };
        case 'resume':
          engine.resume(id, reason);
          return { status: 202 };
        default:
          return error(
            501,
            `'${op}' is not supported by the Tessera local host (supported: raiseEvent, terminate, suspend, resume).`,
          );
      }
    }
    if (parts[0] === 'entities') return error(501, 'Durable entities are not supported by the Tessera local host.');
    return error(404, `Unknown durable management route '${rest}'.`);
  } catch (err) {
    if (err instanceof DurableRequestError) return error(err.status, err.message);
    if (err instanceof ValidationError) return error(400, err.message);
    throw err;
  }
}

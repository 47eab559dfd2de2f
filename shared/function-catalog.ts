import { app } from '@azure/functions';
import type {
  HttpFunctionOptions,
  HttpMethod,
  ServiceBusQueueFunctionOptions,
  TimerFunctionOptions,
} from '@azure/functions';
import * as df from 'durable-functions';
import type {
  ActivityOptions,
  OrchestrationHandler,
  RegisteredActivity,
  RegisteredOrchestration,
} from 'durable-functions';

/**
 * Every registration goes through here, so the app can say what it registered (health, the local
 * host's admin listing) without asking the Functions runtime. Orchestrations may import this file.
 */

export type TriggerKind = 'http' | 'timer' | 'queue' | 'orchestration' | 'activity';

export interface RegisteredFunction {
  name: string;
  trigger: TriggerKind;
  /** HTTP: route template (under /api) and methods. */
  route?: string;
  methods?: readonly HttpMethod[];
  /** Timer: six-field NCRONTAB schedule. */
  schedule?: string;
  /** Queue: the Service Bus queue it reads. */
  queueName?: string;
}

const registered = new Map<string, RegisteredFunction>();

function record(entry: RegisteredFunction): boolean {
  if (registered.has(entry.name)) {
    // Throwing here would take down every function of the app at load time; refuse and say so instead.
    console.error(
      `function-catalog: '${entry.name}' is registered twice; the second registration (${entry.trigger}) was ignored.`,
    );
    return false;
  }
  registered.set(entry.name, Object.freeze({ ...entry }));
  return true;
}

/**
 * app.http. Tessera authenticates every request itself, so the Functions key check is off
 * (`authLevel: 'anonymous'`) unless a registration asks for it.
 */
export function registerHttp(name: string, options: HttpFunctionOptions): void {
  const methods = options.methods ?? ['GET', 'POST'];
  if (!record({ name, trigger: 'http', route: options.route ?? name, methods })) return;
  app.http(name, { authLevel: 'anonymous', ...options, methods });
}

export function registerTimer(name: string, options: TimerFunctionOptions): void {
  if (!record({ name, trigger: 'timer', schedule: options.schedule })) return;
  app.timer(name, options);
}

/**
 * app.serviceBusQueue. On Azure the connection is the app setting prefix `SERVICEBUS`
 * (`SERVICEBUS__fullyQualifiedNamespace` with a managed identity); the local host reads its
 * embedded queue of the same name.
 */
export function registerQueue(name: string, options: Omit<ServiceBusQueueFunctionOptions, 'connection'>): void {
  if (!record({ name, trigger: 'queue', queueName: options.queueName })) return;
  app.serviceBusQueue(name, { connection: 'SERVICEBUS', ...options });
}

export function registerOrchestration(
  name: string,
  handler: OrchestrationHandler,
): RegisteredOrchestration | undefined {
  if (!record({ name, trigger: 'orchestration' })) return undefined;
  return df.app.orchestration(name, handler);
}

export function registerActivity(name: string, options: ActivityOptions): RegisteredActivity | undefined {
  if (!record({ name, trigger: 'activity' })) return undefined;
  return df.app.activity(name, options);
}

/** What this process registered, in registration order. */
export function registeredFunctions(): RegisteredFunction[] {
  return [...registered.values()];
}

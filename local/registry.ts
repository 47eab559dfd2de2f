/**
 * What the app registered through `@azure/functions-core`: functions with their binding
 * metadata, hooks, and the programming model that knows how to invoke them.
 */
export interface RpcBindingInfo {
  type: string;
  direction?: string;
  [key: string]: unknown;
}

export interface RpcFunctionMetadata {
  name: string;
  functionId?: string;
  bindings: Record<string, RpcBindingInfo>;
  retryOptions?: {
    maxRetryCount?: number;
    retryStrategy?: string | number;
    delayInterval?: { seconds?: number; nanos?: number };
    minimumInterval?: { seconds?: number; nanos?: number };
    maximumInterval?: { seconds?: number; nanos?: number };
  };
  [key: string]: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  name: string;
  functionId: string;
  metadata: RpcFunctionMetadata;
  callback: FunctionCallback;
  /** The binding name and info of the single trigger binding. */
  triggerName: string;
  trigger: RpcBindingInfo;
}

export type HookName = 'preInvocation' | 'postInvocation' | 'appStart' | 'appTerminate' | 'log';
export type HookCallback = (context: Record<string, unknown>) => unknown;

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: CoreInvocationContext): InvocationModel;
  getCapabilities?(capabilities: Record<string, string>): Record<string, string> | Promise<Record<string, string>>;
}

export type RpcTypedData =
  | { string: string }
  | { json: string }
  | { bytes: Uint8Array }
  | { http: Record<string, unknown> }
  | { int: number }
  | { double: number };

export interface RpcParameterBinding {
  name: string;
  data: RpcTypedData;
}

export interface RpcInvocationRequest {
  invocationId: string;
  functionId: string;
  inputData: RpcParameterBinding[];
  triggerMetadata: Record<string, RpcTypedData>;
  retryContext?: { retryCount: number; maxRetryCount: number };
  traceContext?: Record<string, unknown>;
}

export interface RpcInvocationResponse {
  invocationId: string;
  outputData?: { name: string; data: unknown }[];
  returnValue?: unknown;
}

export interface CoreInvocationContext {
  invocationId: string;
  request: RpcInvocationRequest;
  metadata: RpcFunctionMetadata;
  state?: unknown;
  log(level: string, category: string, message: string): void;
}

const TRIGGER_SUFFIX = 'Trigger';

export function isTriggerType(type: string): boolean {
  return type.endsWith(TRIGGER_SUFFIX) || type === 'orchestrationTrigger';
}

export class FunctionRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks: Record<HookName, HookCallback[]> = {
    preInvocation: [],
    postInvocation: [],
    appStart: [],
    appTerminate: [],
    log: [],
  };
  programmingModel: ProgrammingModel | undefined;

  register(metadata: RpcFunctionMetadata, callback: FunctionCallback): void {
    if (this.functions.has(metadata.name.toLowerCase())) {
      throw new Error(`A function named "${metadata.name}" is already registered; function names must be unique.`);
    }
    const entry = Object.entries(metadata.bindings).find(([, b]) => isTriggerType(b.type));
    if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding.`);
    const [triggerName, trigger] = entry;
    this.functions.set(metadata.name.toLowerCase(), {
      name: metadata.name,
      functionId: metadata.functionId ?? metadata.name,
      metadata,
      callback,
      triggerName,
      trigger,
    });
  }

  get(name: string): RegisteredFunction | undefined {
    return this.functions.get(name.toLowerCase());
  }

  byTrigger(type: string): RegisteredFunction[] {
    return [...this.functions.values()].filter((f) => f.trigger.type === type);
  }
}

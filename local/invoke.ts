/**
 * The invocation pipeline of the Functions worker: build the RPC request, let the app's
 * programming model turn it into arguments, run preInvocation hooks, the handler and
 * postInvocation hooks, and convert the result back. Orchestrations take the direct path
 * (see durable/ARCHITECTURE.md) so that history objects are not serialised on every episode.
 */
import { randomUUID } from 'node:crypto';
import type {
  CoreInvocationContext,
  FunctionCallback,
  FunctionRegistry,
  RegisteredFunction,
  RpcInvocationResponse,
  RpcParameterBinding,
  RpcTypedData,
} from './registry.js';
import type { Logger } from './logger.js';

export interface InvokeOptions {
  triggerMetadata?: Record<string, RpcTypedData>;
  retryContext?: { retryCount: number; maxRetryCount: number };
  invocationId?: string;
}

export interface InvocationResult {
  invocationId: string;
  response: RpcInvocationResponse;
}

export class InvocationError extends Error {
  constructor(
    readonly functionName: string,
    readonly invocationId: string,
    readonly inner: unknown,
  ) {
    super(inner instanceof Error ? inner.message : String(inner));
    this.name = 'InvocationError';
  }
}

export class Invoker {
  readonly appHookData: Record<string, unknown> = {};
  /** Input bindings the host supplies besides the trigger (e.g. the durable client), for every trigger type. */
  extraInputsFor: (fn: RegisteredFunction) => RpcParameterBinding[] = () => [];

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly logger: Logger,
  ) {}

  async invoke(
    fn: RegisteredFunction,
    inputData: RpcParameterBinding[],
    options: InvokeOptions = {},
  ): Promise<InvocationResult> {
    const model = this.registry.programmingModel;
    if (!model) throw new Error('The app registered no programming model: was @azure/functions loaded?');
    const invocationId = options.invocationId ?? randomUUID();
    const coreContext: CoreInvocationContext = {
      invocationId,
      request: {
        invocationId,
        functionId: fn.functionId,
        inputData: [...inputData, ...this.extraInputsFor(fn)],
        triggerMetadata: options.triggerMetadata ?? {},
        ...(options.retryContext ? { retryContext: options.retryContext } : {}),
      },
      metadata: fn.metadata,
      log: (level, category, message) => this.logger.functionLog(fn.name, invocationId, level, category, message),
    };
    const invocation = model.getInvocationModel(coreContext);
    const { context, inputs } = await invocation.getArguments();
    let result: unknown;
    try {
      result = await this.run(fn.callback, context, inputs, (ctx, args, cb) =>
        invocation.invokeFunction(ctx, args, cb),
      );
    } catch (err) {
      throw new InvocationError(fn.name, invocationId, err);
    }
    const response = await invocation.getResponse(context, result);
    return { invocationId, response };
  }

  /** Runs a handler between the app's hooks; used by the worker path and the direct path alike. */
  async run(
    callback: FunctionCallback,
    context: unknown,
    inputs: unknown[],
    call: (context: unknown, inputs: unknown[], callback: FunctionCallback) => Promise<unknown>,
  ): Promise<unknown> {
    const hookData: Record<string, unknown> = {};
    const pre = {
      hookData,
      appHookData: this.appHookData,
      invocationContext: context,
      inputs,
      functionCallback: callback,
    };
    for (const hook of this.registry.hooks.preInvocation) await hook(pre);
    let result: unknown;
    let error: unknown;
    try {
      result = await call(context, pre.inputs, pre.functionCallback);
    } catch (err) {
      error = err;
    }
    if (this.registry.hooks.postInvocation.length > 0) {
      const post = {
        hookData,
        appHookData: this.appHookData,
        invocationContext: context,
        inputs: pre.inputs,
        result,
        error,
      };
      for (const hook of this.registry.hooks.postInvocation) await hook(post);
      result = post.result;
      error = post.error;
    }
    if (error !== undefined) throw error;
    return result;
  }
}

/** Reads a typed-data value (a return value or an output binding) back into a JS value. */
export function fromTypedData(data: unknown): unknown {
  if (data === null || data === undefined || typeof data !== 'object') return data;
  const d = data as Record<string, unknown>;
  if ('string' in d) return d.string;
  if ('json' in d && typeof d.json === 'string') return JSON.parse(d.json);
  if ('bytes' in d) return Buffer.from(d.bytes as Uint8Array);
  if ('int' in d) return d.int;
  if ('double' in d) return d.double;
  return data;
}

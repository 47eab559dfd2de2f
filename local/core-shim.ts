/**
 * Provides the Functions worker contract (`@azure/functions-core`) to the app, the way the
 * real Node worker does: a proxy on Module.prototype.require answers that one module name.
 * Import this module before anything loads `@azure/functions`.
 */
import Module from 'node:module';
import { FunctionRegistry } from './registry.js';
import type { FunctionCallback, HookCallback, HookName, ProgrammingModel, RpcFunctionMetadata } from './registry.js';

export const CORE_MODULE = '@azure/functions-core';
export const HOST_VERSION = '4.1037.0';

export type CoreLogSink = (level: string, category: string, message: string) => void;

let activeRegistry = new FunctionRegistry();
let logSink: CoreLogSink = () => {};

/** Replace the registry (one per loaded app; tests load several apps). */
export function resetRegistry(): FunctionRegistry {
  const model = activeRegistry.programmingModel;
  activeRegistry = new FunctionRegistry();
  // @azure/functions sets its programming model once per process, on first registration.
  activeRegistry.programmingModel = model;
  return activeRegistry;
}

export function currentRegistry(): FunctionRegistry {
  return activeRegistry;
}

export function setCoreLogSink(sink: CoreLogSink): void {
  logSink = sink;
}

const coreApi = {
  version: '3.10.1',
  get hostVersion() {
    return HOST_VERSION;
  },
  Disposable: class Disposable {
    #callback: () => void;
    constructor(callback: () => void) {
      this.#callback = callback;
    }
    dispose(): void {
      this.#callback();
    }
    static from(...items: { dispose(): void }[]) {
      return new Disposable(() => items.forEach((i) => i.dispose()));
    }
  },
  registerFunction(metadata: RpcFunctionMetadata, callback: FunctionCallback) {
    activeRegistry.register(metadata, callback);
    return new coreApi.Disposable(() => activeRegistry.functions.delete(metadata.name.toLowerCase()));
  },
  registerHook(name: HookName, callback: HookCallback) {
    const list = activeRegistry.hooks[name];
    if (!list) throw new RangeError(`Unknown hook name "${String(name)}"`);
    list.push(callback);
    return new coreApi.Disposable(() => {
      const i = list.indexOf(callback);
      if (i >= 0) list.splice(i, 1);
    });
  },
  setProgrammingModel(model: ProgrammingModel) {
    activeRegistry.programmingModel = model;
  },
  getProgrammingModel() {
    return activeRegistry.programmingModel;
  },
  log(level: string, category: string, message: string) {
    logSink(level, category, message);
  },
};

type RequireFn = (this: NodeJS.Module, id: string) => unknown;
const proto = Module.prototype as unknown as { require: RequireFn & { __tesseraCore?: true } };
if (!proto.require.__tesseraCore) {
  const original = proto.require;
  const patched = new Proxy(original, {
    apply(target, thisArg: NodeJS.Module, args: [string]) {
      if (args[0] === CORE_MODULE) return coreApi;
      return Reflect.apply(target, thisArg, args);
    },
  }) as RequireFn & { __tesseraCore?: true };
  patched.__tesseraCore = true;
  proto.require = patched;
}

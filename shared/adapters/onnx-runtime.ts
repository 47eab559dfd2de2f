/**
 * ModelRuntime over onnxruntime-node (CPU). The native package is imported lazily, on the first
 * load, so that importing this module never fails where the binary is missing (STYLE habit 3).
 */
import type * as OnnxRuntimeNode from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { AppError, ValidationError } from '../errors.js';
import type { TensorElementType } from '../ml/onnx/builder.js';
import type { ModelRuntime, ModelSession, ModelValueInfo, RuntimeTensor } from '../ports/model-runtime.js';

type Ort = typeof OnnxRuntimeNode;

let ortModule: Promise<Ort> | undefined;

function ort(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

export interface OnnxSessionOptions {
  /**
   * Threads per operator. Defaults to 1: a Functions instance is small and scales out by instances,
   * and a pool per session on a shared host only adds contention. Raise it for large batch scoring.
   */
  intraOpNumThreads?: number;
}

const TO_ORT_TYPE: Readonly<Record<TensorElementType, Tensor.Type>> = {
  float: 'float32',
  double: 'float64',
  int64: 'int64',
  string: 'string',
  bool: 'bool',
};

function fromOrtType(type: Tensor.Type): TensorElementType | undefined {
  switch (type) {
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'int64':
      return 'int64';
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    default:
      return undefined;
  }
}

function fromOrtMetadata(meta: InferenceSession.ValueMetadata): ModelValueInfo {
  if (!meta.isTensor) {
    throw new AppError('Unsupported', `model value '${meta.name}' is not a tensor (a sequence or map?)`, {
      target: meta.name,
    });
  }
  const type = fromOrtType(meta.type);
  if (type === undefined) {
    throw new AppError('Unsupported', `model value '${meta.name}' has element type ${meta.type}`, {
      target: meta.name,
    });
  }
  const shape = meta.shape.map((d) => (typeof d === 'number' ? (d >= 0 ? d : null) : d === '' ? null : d));
  return { name: meta.name, type, shape };
}

function toOrtTensor(ortApi: Ort, feed: RuntimeTensor): Tensor {
  const dims = [...feed.dims];
  switch (feed.type) {
    case 'string':
      return new ortApi.Tensor('string', [...feed.data], dims);
    default:
      return new ortApi.Tensor(TO_ORT_TYPE[feed.type], feed.data, dims);
  }
}

function fromOrtTensor(name: string, value: Tensor): RuntimeTensor {
  const dims = [...value.dims];
  const data: unknown = value.data;
  switch (value.type) {
    case 'float32':
      if (data instanceof Float32Array) return { type: 'float', dims, data };
      break;
    case 'float64':
      if (data instanceof Float64Array) return { type: 'double', dims, data };
      break;
    case 'int64':
      if (data instanceof BigInt64Array) return { type: 'int64', dims, data };
      break;
    case 'string':
      if (Array.isArray(data)) return { type: 'string', dims, data: data as string[] };
      break;
    case 'bool':
      if (data instanceof Uint8Array) return { type: 'bool', dims, data };
      break;
  }
  throw new AppError('Unsupported', `model output '${name}' has element type ${value.type}`, { target: name });
}

/** One loaded model. Build it with `OnnxModelSession.load`. */
export class OnnxModelSession implements ModelSession {
  private session: InferenceSession | undefined;
  private readonly inputInfo: readonly ModelValueInfo[];
  private readonly outputInfo: readonly ModelValueInfo[];

  private constructor(
    private readonly ortApi: Ort,
    session: InferenceSession,
  ) {
    this.session = session;
    this.inputInfo = session.inputMetadata.map(fromOrtMetadata);
    this.outputInfo = session.outputMetadata.map(fromOrtMetadata);
  }

  /** Loads the serialized model; invalid bytes or an invalid graph are a ValidationError (target 'model'). */
  static async load(model: Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxModelSession> {
    if (!(model instanceof Uint8Array)) throw new TypeError('model must be a Uint8Array');
    const ortApi = await ort();
    let session: InferenceSession;
    try {
      session = await ortApi.InferenceSession.create(model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: options.intraOpNumThreads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationError(`The ONNX model could not be loaded (${model.length} bytes): ${reason}`, {
        target: 'model',
        cause: error,
      });
    }
    try {
      return new OnnxModelSession(ortApi, session);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  inputs(): readonly ModelValueInfo[] {
    return this.inputInfo;
  }

  outputs(): readonly ModelValueInfo[] {
    return this.outputInfo;
  }

  async run(feeds: Readonly<Record<string, RuntimeTensor>>): Promise<Record<string, RuntimeTensor>> {
    const session = this.session;
    if (session === undefined) throw new Error('the ONNX session is closed');
    checkFeeds(this.inputInfo, feeds);
    const ortFeeds: Record<string, Tensor> = {};
    for (const info of this.inputInfo)
      ortFeeds[info.name] = toOrtTensor(this.ortApi, feeds[info.name] as RuntimeTensor);
    let results: InferenceSession.ReturnType;
    try {
      results = await session.run(ortFeeds);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`running the ONNX model failed: ${reason}`, { cause: error });
    }
    const outputs: Record<string, RuntimeTensor> = {};
    for (const [name, value] of Object.entries(results)) {
      if (!('dims' in value) || !('type' in value)) {
        throw new AppError('Unsupported', `model output '${name}' is not a tensor`, { target: name });
      }
      outputs[name] = fromOrtTensor(name, value as Tensor);
    }
    return outputs;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session !== undefined) await session.release();
  }
}

/** The ModelRuntime port over onnxruntime-node. */
export class OnnxModelRuntime implements ModelRuntime {
  readonly kind = 'onnxruntime-node';

  constructor(private readonly options: OnnxSessionOptions = {}) {}

  load(model: Uint8Array): Promise<ModelSession> {
    return OnnxModelSession.load(model, this.options);
  }
}

/**
 * Checks every feed against the declared inputs before the native run, so a bad feed names the
 * input and what was expected instead of surfacing as a native error. Symbolic dimensions must
 * take one size across all inputs (every 'N' is the same batch).
 */
function checkFeeds(inputs: readonly ModelValueInfo[], feeds: Readonly<Record<string, RuntimeTensor>>): void {
  const declared = new Set(inputs.map((i) => i.name));
  const unknown = Object.keys(feeds).filter((name) => !declared.has(name));
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown model input(s) ${unknown.map((n) => `'${n}'`).join(', ')}; the model's inputs are ${[...declared]
        .map((n) => `'${n}'`)
        .join(', ')}`,
      { target: unknown[0] },
    );
  }
  const symbols = new Map<string, { size: number; input: string }>();
  for (const info of inputs) {
    const feed = feeds[info.name];
    if (feed === undefined) {
      throw new ValidationError(`model input '${info.name}' (${info.type} [${formatShape(info.shape)}]) is not fed`, {
        target: info.name,
      });
    }
    if (feed.type !== info.type) {
      throw new ValidationError(`model input '${info.name}' must be ${info.type}; got ${feed.type}`, {
        target: info.name,
      });
    }
    const size = feed.dims.reduce((a, b) => a * b, 1);
    if (!feed.dims.every((d) => Number.isSafeInteger(d) && d >= 0) || feed.data.length !== size) {
      throw new ValidationError(
        `model input '${info.name}' has dims [${feed.dims.join(', ')}] but ${feed.data.length} elements`,
        { target: info.name },
      );
    }
    if (info.shape.length > 0 && feed.dims.length !== info.shape.length) {
      throw new ValidationError(
        `model input '${info.name}' must have shape [${formatShape(info.shape)}]; got [${feed.dims.join(', ')}]`,
        { target: info.name },
      );
    }
    info.shape.forEach((want, k) => {
      const got = feed.dims[k] as number;
      if (typeof want === 'number' && want !== got) {
        throw new ValidationError(
          `model input '${info.name}' must have shape [${formatShape(info.shape)}]; got [${feed.dims.join(', ')}]`,
          { target: info.name },
        );
      }
      if (typeof want === 'string') {
        const bound = symbols.get(want);
        if (bound === undefined) symbols.set(want, { size: got, input: info.name });
        else if (bound.size !== got) {
          throw new ValidationError(
            `dimension '${want}' is ${bound.size} in input '${bound.input}' but ${got} in input '${info.name}'`,
            { target: info.name },
          );
        }
      }
    });
  }
}

function formatShape(shape: readonly (number | string | null)[]): string {
  return shape.map((d) => (d === null ? '?' : String(d))).join(', ');
}

/**
 * The no-code deployment: a model folder holding model.onnx (+ manifest.json from AutoML), or a
 * bare .onnx file, served by one ModelSession for the deployment's life (onnxruntime's run is
 * thread-safe and async, so concurrent requests share it), through a RowBatcher that runs the
 * requests waiting under load as one batch (batcher.ts). Everything that depends only on the
 * model — the input specs, the column orders, the output to answer — is decided at load.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelManifest } from '../ml/automl/types.js';
import type { ModelSession, RuntimeTensor } from '../ports/model-runtime.js';
import { RowBatcher } from './batcher.js';
import { modelInputsFromGraph, modelInputsFromManifest, RequestParser, type ModelInputs } from './onnx-input.js';
import {
  errorResponse,
  MAX_BODY_BYTES,
  ScorerInitError,
  type DeploymentRuntime,
  type Scorer,
  type ScorerDeps,
  type ScoreRequest,
  type ScoreResponse,
} from './scorer.js';

const JSON_TYPE = 'application/json';
/** The most rows one batched graph run takes (batcher.ts). */
const BATCH_MAX_ROWS = 256;

export interface LocatedModel {
  onnxPath: string;
  manifest?: ModelManifest;
}

/**
 * Finds the graph: `path` itself when it is a .onnx file; else model.onnx (or the only .onnx file)
 * in the folder or, failing that, in its only subfolder; manifest.json beside it when present.
 */
export async function locateOnnxModel(path: string): Promise<LocatedModel> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new ScorerInitError(`the model path '${path}' does not exist`, '');
  if (info.isFile()) {
    if (!path.endsWith('.onnx')) {
      throw new ScorerInitError(`the model file '${basename(path)}' is not an .onnx file`, '');
    }
    return { onnxPath: path };
  }
  const found = (await findOnnx(path)) ?? (await findInOnlySubfolder(path));
  if (found === undefined) {
    throw new ScorerInitError(
      `the model folder holds no .onnx file: a no-code deployment needs model.onnx (AutoML's model folder) or one .onnx file`,
      '',
    );
  }
  const manifestPath = join(found.dir, 'manifest.json');
  const text = await readFile(manifestPath, 'utf8').catch(() => undefined);
  if (text === undefined) return { onnxPath: found.file };
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new ScorerInitError(`manifest.json is not valid JSON: ${(error as Error).message}`, '');
  }
  const m = manifest as Partial<ModelManifest>;
  if (m.format !== 'tessera.automl.v1' || !Array.isArray(m.inputs) || typeof m.outputs !== 'object') {
    throw new ScorerInitError(`manifest.json is not an AutoML model manifest (format 'tessera.automl.v1')`, '');
  }
  return { onnxPath: found.file, manifest: m as ModelManifest };
}

async function findOnnx(dir: string): Promise<{ dir: string; file: string } | undefined> {
  const names = await readdir(dir);
  const onnx = names.filter((n) => n.endsWith('.onnx'));
  if (onnx.includes('model.onnx')) return { dir, file: join(dir, 'model.onnx') };
  if (onnx.length === 1) return { dir, file: join(dir, onnx[0] as string) };
  if (onnx.length > 1) {
    throw new ScorerInitError(
      `the model folder holds ${onnx.length} .onnx files (${onnx.join(', ')}) and no model.onnx: which one to serve is ambiguous`,
      '',
    );
  }
  return undefined;
}

async function findInOnlySubfolder(dir: string): Promise<{ dir: string; file: string } | undefined> {
  const entries = await readdir(dir, { withFileTypes: true });
  const dirs = entries.filter((e) => e.isDirectory());
  if (dirs.length !== 1 || entries.length !== 1) return undefined;
  return findOnnx(join(dir, (dirs[0] as { name: string }).name));
}

/** How the answer is read from the graph's outputs. */
interface AnswerSpec {
  output: string;
}

export async function createOnnxScorer(runtime: DeploymentRuntime, deps: ScorerDeps): Promise<Scorer> {
  if (runtime.modelDir === undefined) throw new ScorerInitError('a no-code ONNX deployment needs a model', '');
  const located = await locateOnnxModel(runtime.modelDir);
  const bytes = new Uint8Array(await readFile(located.onnxPath));
  let session: ModelSession;
  try {
    session = await deps.modelRuntime.load(bytes);
  } catch (error) {
    throw new ScorerInitError(
      `model '${basename(located.onnxPath)}' could not be loaded: ${(error as Error).message}`,
      '',
      {
        cause: error,
      },
    );
  }
  try {
    const { inputs, answer } = plan(session, located.manifest);
    // onnxruntime-node runs a session on the main thread (batcher.ts): one run at a time, the
    // requests that arrive meanwhile form the next batch.
    const batcher = new RowBatcher(session, { maxRows: BATCH_MAX_ROWS, maxRunsInFlight: 1 });
    return new OnnxScorer(session, batcher, new RequestParser(inputs, deps.maxBodyBytes ?? MAX_BODY_BYTES), answer);
  } catch (error) {
    await session.close();
    if (error instanceof ScorerInitError) throw error;
    throw new ScorerInitError(
      `model '${basename(located.onnxPath)}' cannot be served: ${(error as Error).message}`,
      '',
      {
        cause: error,
      },
    );
  }
}

function plan(session: ModelSession, manifest: ModelManifest | undefined): { inputs: ModelInputs; answer: AnswerSpec } {
  const graphOutputs = session.outputs().map((o) => o.name);
  if (manifest !== undefined) {
    const output = manifest.outputs.label ?? manifest.outputs.prediction;
    if (output === undefined || !graphOutputs.includes(output)) {
      throw new TypeError(
        `manifest.json names the output '${output ?? '(none)'}'; model.onnx has ${graphOutputs.join(', ')}`,
      );
    }
    return { inputs: modelInputsFromManifest(manifest, session.inputs()), answer: { output } };
  }
  const first = graphOutputs[0];
  if (first === undefined) throw new TypeError('the graph has no outputs');
  // An AutoML graph copied without its manifest still answers labels rather than probabilities.
  const output = graphOutputs.includes('label') ? 'label' : first;
  return { inputs: modelInputsFromGraph(session.inputs()), answer: { output } };
}

class OnnxScorer implements Scorer {
  constructor(
    private readonly session: ModelSession,
    private readonly batcher: RowBatcher,
    private readonly parser: RequestParser,
    private readonly answer: AnswerSpec,
  ) {}

  async score(req: ScoreRequest, signal: AbortSignal): Promise<ScoreResponse> {
    const parsed = this.parser.parse(req.body);
    if (!parsed.ok) return errorResponse(parsed.problem.status, parsed.problem.code, parsed.problem.message);
    if (signal.aborted) return errorResponse(504, 'Timeout', 'the request timed out before scoring');
    let outputs: Record<string, RuntimeTensor>;
    try {
      outputs = await this.batcher.run(parsed.feeds, parsed.rows, parsed.shape);
    } catch (error) {
      return errorResponse(500, 'ScoringFailed', `the model failed on this input: ${(error as Error).message}`);
    }
    const out = outputs[this.answer.output];
    if (out === undefined) return errorResponse(500, 'ScoringFailed', `the model gave no '${this.answer.output}'`);
    return { status: 200, body: tensorToJson(out, parsed.rows), contentType: JSON_TYPE };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * A tensor as a JSON list, one entry per row: a value where each row holds one ([N] or [N, 1]),
 * else a list. Written by hand: JSON.stringify(Array.from(...)) would copy the tensor twice.
 */
export function tensorToJson(t: RuntimeTensor, rows: number): string {
  const n = t.data.length;
  const width = rows > 0 ? n / rows : 0;
  let s = '[';
  for (let r = 0; r < rows; r++) {
    if (r > 0) s += ',';
    if (width !== 1) s += '[';
    for (let k = 0; k < width; k++) {
      if (k > 0) s += ',';
      s += cellJson(t, r * width + k);
    }
    if (width !== 1) s += ']';
  }
  return s + ']';
}

function cellJson(t: RuntimeTensor, i: number): string {
  switch (t.type) {
    case 'float':
    case 'double': {
      const v = t.data[i] as number;
      return Number.isFinite(v) ? String(v) : 'null';
    }
    case 'int64':
      return String(t.data[i]);
    case 'bool':
      return t.data[i] === 0 ? 'false' : 'true';
    case 'string':
      return JSON.stringify(t.data[i]);
  }
}

/**
 * The scorer contract: one loaded deployment that turns a request body into an answer. Scorers
 * answer bad input as a 4xx response (never a throw) so that the router can count it; a throw is a
 * fault of the platform or of the user's code and becomes a 500.
 */
import type { ModelRuntime } from '../ports/model-runtime.js';
import type { DeploymentKind } from './types.js';

export interface ScoreRequest {
  body: Buffer;
  contentType?: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
}

export interface ScoreResponse {
  status: number;
  body: Buffer | string;
  contentType: string;
  headers?: Record<string, string>;
}

export interface Scorer {
  /** Scores one request; `signal` aborts when the gate gives up on it (timeout). */
  score(req: ScoreRequest, signal: AbortSignal): Promise<ScoreResponse>;
  /** Releases the model, workers or processes. Idempotent. */
  close(): Promise<void>;
}

/** A deployment resolved onto local disk: what a scorer is built from. */
export interface DeploymentRuntime {
  kind: DeploymentKind;
  /** AZUREML_MODEL_DIR: a folder, or for a bare .onnx model the file itself. */
  modelDir?: string;
  codeDir?: string;
  scoringScript?: string;
  instanceCount: number;
  environmentVariables: Readonly<Record<string, string>>;
}

/** Raised by a scorer factory when the deployment cannot start; `logs` is what the user needs to see. */
export class ScorerInitError extends Error {
  constructor(
    message: string,
    readonly logs: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ScorerInitError';
  }
}

export interface ScorerDeps {
  modelRuntime: ModelRuntime;
  /** Largest request body, in bytes; default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

/** Azure ML caps a scoring request's payload; so do we, by default, at 8 MiB. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

const JSON_TYPE = 'application/json';

/** A JSON `{ error: { code, message } }` answer. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): ScoreResponse {
  const res: ScoreResponse = { status, body: JSON.stringify({ error: { code, message } }), contentType: JSON_TYPE };
  if (headers !== undefined) res.headers = headers;
  return res;
}

export function jsonResponse(body: string): ScoreResponse {
  return { status: 200, body, contentType: JSON_TYPE };
}

/** Builds the scorer of a deployment's kind. Scorer modules are imported lazily (worker and process pools). */
export async function createScorer(runtime: DeploymentRuntime, deps: ScorerDeps): Promise<Scorer> {
  switch (runtime.kind) {
    case 'onnx': {
      const { createOnnxScorer } = await import('./onnx-scorer.js');
      return createOnnxScorer(runtime, deps);
    }
    case 'script': {
      const { createScriptScorer } = await import('./script-scorer.js');
      return createScriptScorer(runtime, deps);
    }
    case 'python': {
      const { createPythonScorer } = await import('./python-scorer.js');
      return createPythonScorer(runtime, deps);
    }
  }
}

import { MLFLOW_RUN_INPUTS_CONTAINER, runInputsDocumentSchema } from '../contracts/mlflow-artifacts.js';
import type { RunInputsDocument } from '../contracts/mlflow-artifacts.js';
import type { MlflowDatasetInput } from '../contracts/mlflow.js';
import { MAX_DOCUMENT_BYTES } from '../domain/stored-document.js';
import { ConflictError, PreconditionFailedError, ValidationError } from '../errors.js';
import type { DocumentContainer, MetadataStore } from '../ports/metadata-store.js';

/** What a run used and produced besides params, metrics and tags. */
export interface RunInputs {
  datasetInputs: MlflowDatasetInput[];
  modelInputs: { model_id: string }[];
  modelOutputs: { model_id: string; step: number }[];
}

/**
 * A run's dataset inputs, model inputs and model outputs, kept in the metadata store beside the
 * tracking store (whose port has no place for them): one document per run in `mlflowRunInputs`,
 * partitioned by workspace. Outputs share the document so that reading a run costs one read.
 */
export interface RunInputsStore {
  get(ws: string, runId: string): Promise<RunInputs | undefined>;
  /** The inputs of several runs (one query per 256 runs); runs without any are absent from the map. */
  getMany(ws: string, runIds: readonly string[]): Promise<Map<string, RunInputs>>;
  /**
   * Adds inputs and outputs, as MLflow does: a dataset already logged to the run (same name and
   * digest) keeps its first tags; a model already an input, or an output at that step, is not added twice.
   */
  add(ws: string, runId: string, added: Partial<RunInputs>): Promise<void>;
}

const MAX_ATTEMPTS = 16;
/** MetadataStore `in` filters take at most this many values. */
const IN_CHUNK = 256;

export function createRunInputsStore(deps: { store: MetadataStore }): RunInputsStore {
  let containerPromise: Promise<DocumentContainer> | undefined;
  const documents = (): Promise<DocumentContainer> => {
    containerPromise ??= deps.store.container(MLFLOW_RUN_INPUTS_CONTAINER).catch((err: unknown) => {
      containerPromise = undefined;
      throw err;
    });
    return containerPromise;
  };

  const read = async (ws: string, runId: string) => {
    const found = await (await documents()).read<RunInputsDocument>(ws, runId);
    return found === undefined ? undefined : { doc: parseStored(found), etag: found._etag };
  };

  return {
    async get(ws, runId) {
      const found = await read(ws, runId);
      return found === undefined ? undefined : toRunInputs(found.doc);
    },

    async getMany(ws, runIds) {
      const out = new Map<string, RunInputs>();
      const container = await documents();
      for (let i = 0; i < runIds.length; i += IN_CHUNK) {
        const ids = runIds.slice(i, i + IN_CHUNK);
        let continuation: string | undefined;
        do {
          const page = await container.query<RunInputsDocument>({
            partitionKey: ws,
            filters: [{ path: 'id', op: 'in', value: ids }],
            limit: 1000,
            ...(continuation === undefined ? {} : { continuation }),
          });
          for (const item of page.items) out.set(item.id, toRunInputs(parseStored(item)));
          continuation = page.continuation;
        } while (continuation !== undefined);
      }
      return out;
    },

    async add(ws, runId, added) {
      const container = await documents();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const found = await read(ws, runId);
        const current: RunInputsDocument = found?.doc ?? {
          id: runId,
          pk: ws,
          kind: 'mlflowRunInputs',
          schemaVersion: 1,
          datasetInputs: [],
          modelInputs: [],
          modelOutputs: [],
        };
        const next = merge(current, added);
        if (next === current) return;
        checkSize(next, runId);
        try {
          if (found === undefined) await container.create(next);
          else await container.replace(next, { ifMatch: found.etag });
          return;
        } catch (err) {
          // Another writer got there first: read again and merge into what it wrote.
          if (err instanceof ConflictError || err instanceof PreconditionFailedError) continue;
          throw err;
        }
      }
      throw new ConflictError(`The inputs of run ${runId} are being changed by too many writers at once; try again.`, {
        target: 'run_id',
        retryable: true,
      });
    },
  };
}

/** The document with `added` merged in, or the same object when nothing is new. */
function merge(doc: RunInputsDocument, added: Partial<RunInputs>): RunInputsDocument {
  const datasetKey = (d: MlflowDatasetInput) => JSON.stringify([d.dataset.name, d.dataset.digest]);
  const datasets = new Map(doc.datasetInputs.map((d) => [datasetKey(d), d]));
  const models = new Set(doc.modelInputs.map((m) => m.model_id));
  const outputs = new Set(doc.modelOutputs.map((m) => JSON.stringify([m.model_id, m.step])));
  let changed = false;
  const datasetInputs = [...doc.datasetInputs];
  for (const d of added.datasetInputs ?? []) {
    if (datasets.has(datasetKey(d))) continue;
    datasets.set(datasetKey(d), d);
    datasetInputs.push(d);
    changed = true;
  }
  const modelInputs = [...doc.modelInputs];
  for (const m of added.modelInputs ?? []) {
    if (models.has(m.model_id)) continue;
    models.add(m.model_id);
    modelInputs.push({ model_id: m.model_id });
    changed = true;
  }
  const modelOutputs = [...doc.modelOutputs];
  for (const m of added.modelOutputs ?? []) {
    const key = JSON.stringify([m.model_id, m.step]);
    if (outputs.has(key)) continue;
    outputs.add(key);
    modelOutputs.push({ model_id: m.model_id, step: m.step });
    changed = true;
  }
  return changed ? { ...doc, datasetInputs, modelInputs, modelOutputs } : doc;
}

/** A document over the store's limit would fail with a bare size error; say what to do instead. */
function checkSize(doc: RunInputsDocument, runId: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(doc));
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new ValidationError(
      `The inputs of run ${runId} would take ${bytes} bytes, over the ${MAX_DOCUMENT_BYTES} bytes a run's inputs may ` +
        'take; log fewer datasets, or smaller dataset schemas and profiles.',
      { target: 'datasets' },
    );
  }
}

function toRunInputs(doc: RunInputsDocument): RunInputs {
  return { datasetInputs: doc.datasetInputs, modelInputs: doc.modelInputs, modelOutputs: doc.modelOutputs };
}

/** Stored documents are parsed again; one that does not parse is our fault (a 500), not the caller's. */
function parseStored(value: unknown): RunInputsDocument {
  const result = runInputsDocumentSchema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `A stored ${MLFLOW_RUN_INPUTS_CONTAINER} document does not match its schema: ${result.error.message}`,
    );
  }
  return result.data;
}

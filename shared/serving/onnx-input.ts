/**
 * Request bodies of a no-code ONNX deployment → the graph's feeds. The model's inputs are decided
 * once, when the deployment loads (`modelInputsFromManifest`, `modelInputsFromGraph`); each request
 * is then one JSON.parse and one pass over its cells into typed arrays. Every malformed body is a
 * `RequestProblem` naming what is wrong and where (rows count from 0, as `data[i]` does).
 *
 * Accepted shapes (Azure ML and MLflow scoring): `{"input_data": {"columns", "index", "data"}}`,
 * `{"input_data": [[...]]}`, `{"data": [[...]]}`, `{"dataframe_split": {...}}` and
 * `{"dataframe_records": [{...}]}`; a row is a list of cells or an object of column → cell.
 */
import type { ManifestInput, ModelManifest } from '../ml/automl/types.js';
import { tokenize } from '../ml/featurize/text.js';
import type { ModelValueInfo, RuntimeTensor } from '../ports/model-runtime.js';

/** How one raw column travels into its graph input ([N, 1], or [N, T] for tokens). */
export type CellEncoding = 'float' | 'double' | 'int64' | 'epoch-ms' | 'string' | 'tokens';

export interface ColumnInput {
  column: string;
  onnxName: string;
  encoding: CellEncoding;
}

export type ModelInputs =
  /** One graph input per raw column (an AutoML manifest, or a graph of [N, 1] inputs). */
  | { mode: 'columns'; columns: readonly ColumnInput[] }
  /** One float or double graph input [N, F]: each row is a feature vector. */
  | { mode: 'matrix'; onnxName: string; type: 'float' | 'double'; width: number | undefined };

export interface RequestProblem {
  status: 400 | 413 | 415;
  code: string;
  message: string;
}

export type ParsedRequest =
  | {
      ok: true;
      rows: number;
      feeds: Record<string, RuntimeTensor>;
      /** Equal for requests whose feeds stack row-wise (the same trailing dimensions): batcher.ts. */
      shape: string;
    }
  | { ok: false; problem: RequestProblem };

/** What a manifest input's encoding becomes as a cell encoding. */
const FROM_MANIFEST: Readonly<Record<ManifestInput['encoding'], CellEncoding>> = {
  float32: 'float',
  'epoch-ms': 'epoch-ms',
  string: 'string',
  tokens: 'tokens',
};

/**
 * The inputs of an AutoML model folder, checked against the graph it travels with: each manifest
 * input must be a graph input of the same element type. Throws a TypeError naming the mismatch.
 */
export function modelInputsFromManifest(manifest: ModelManifest, graphInputs: readonly ModelValueInfo[]): ModelInputs {
  const byName = new Map(graphInputs.map((i) => [i.name, i]));
  const columns = manifest.inputs.map((input): ColumnInput => {
    const graph = byName.get(input.onnxName);
    if (graph === undefined) {
      throw new TypeError(
        `manifest.json names the graph input '${input.onnxName}' (column '${input.column}'), which model.onnx does not declare; it declares ${list(graphInputs.map((i) => i.name))}`,
      );
    }
    if (graph.type !== input.onnxType) {
      throw new TypeError(
        `manifest.json says graph input '${input.onnxName}' is ${input.onnxType}; model.onnx declares ${graph.type}`,
      );
    }
    const encoding = FROM_MANIFEST[input.encoding];
    if (encoding === undefined) throw new TypeError(`manifest.json: input '${input.column}' has unknown encoding`);
    return { column: input.column, onnxName: input.onnxName, encoding };
  });
  if (columns.length !== graphInputs.length) {
    const listed = new Set(columns.map((c) => c.onnxName));
    const extra = graphInputs.filter((i) => !listed.has(i.name)).map((i) => i.name);
    throw new TypeError(`model.onnx declares input(s) ${list(extra)} that manifest.json does not describe`);
  }
  return { mode: 'columns', columns };
}

/**
 * The inputs of a bare graph: a single float/double input [N, F] takes rows as feature vectors;
 * otherwise every input must be one column ([N] or [N, 1]) of float, double, int64 or string.
 */
export function modelInputsFromGraph(graphInputs: readonly ModelValueInfo[]): ModelInputs {
  const only = graphInputs[0];
  if (graphInputs.length === 1 && only !== undefined && (only.type === 'float' || only.type === 'double')) {
    const width = only.shape.length === 2 ? only.shape[1] : only.shape.length === 1 ? 1 : undefined;
    if (only.shape.length !== 1 && only.shape.length !== 2) {
      throw new TypeError(
        `the graph's input '${only.name}' has rank ${only.shape.length}; a bare model must take rows [N, features]`,
      );
    }
    return {
      mode: 'matrix',
      onnxName: only.name,
      type: only.type,
      width: typeof width === 'number' ? width : undefined,
    };
  }
  const columns = graphInputs.map((info): ColumnInput => {
    const second = info.shape[1];
    // An AutoML graph without its manifest: text columns travel as tokens [N, '<column>:tokens'].
    if (info.type === 'string' && typeof second === 'string' && second.endsWith(':tokens')) {
      return { column: info.name, onnxName: info.name, encoding: 'tokens' };
    }
    if (info.shape.length > 2 || (info.shape.length === 2 && second !== 1 && second !== null)) {
      throw new TypeError(
        `the graph's input '${info.name}' has shape [${info.shape.join(', ')}]; with several inputs each must be one column [N, 1]`,
      );
    }
    if (info.type === 'bool')
      throw new TypeError(`the graph's input '${info.name}' is bool, which scoring does not feed`);
    return { column: info.name, onnxName: info.name, encoding: info.type };
  });
  return { mode: 'columns', columns };
}

/** What a request's `columns` (or a record's keys) maps to: model column k is request cell perm[k]. */
interface ColumnOrder {
  perm: Int32Array;
}

/**
 * Parses request bodies for one model. Holds the per-model precomputation (the default order, a
 * small cache of column orders seen) so that a request does no schema work beyond its own cells.
 */
export class RequestParser {
  private readonly names: readonly string[];
  private readonly index: ReadonlyMap<string, number>;
  private readonly orders = new Map<string, ColumnOrder>();
  private readonly identity: ColumnOrder;

  constructor(
    readonly inputs: ModelInputs,
    private readonly maxBodyBytes: number,
  ) {
    this.names = inputs.mode === 'columns' ? inputs.columns.map((c) => c.column) : [];
    this.index = new Map(this.names.map((n, i) => [n, i]));
    this.identity = { perm: Int32Array.from(this.names, (_, i) => i) };
  }

  parse(body: Buffer | string): ParsedRequest {
    const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (size > this.maxBodyBytes) {
      return fail(
        413,
        'PayloadTooLarge',
        `the request body is ${size} bytes; the limit is ${this.maxBodyBytes}. Send fewer rows per request`,
      );
    }
    let doc: unknown;
    try {
      doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    } catch (error) {
      return fail(400, 'InvalidJson', `the request body is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      return fail(400, 'InvalidInput', `the request body must be a JSON object with "input_data" or "data"`);
    }
    const o = doc as Record<string, unknown>;
    const payload = o['input_data'] ?? o['data'] ?? o['dataframe_split'] ?? o['dataframe_records'];
    const key =
      'input_data' in o ? 'input_data' : 'data' in o ? 'data' : 'dataframe_split' in o ? 'dataframe_split' : undefined;
    if (payload === undefined || payload === null) {
      return fail(
        400,
        'InvalidInput',
        `the request body has no "input_data" or "data" (found ${list(Object.keys(o).slice(0, 5)) || 'no keys'})`,
      );
    }
    let rows: unknown;
    let columns: unknown;
    if (Array.isArray(payload)) rows = payload;
    else if (typeof payload === 'object') {
      const split = payload as Record<string, unknown>;
      rows = split['data'];
      columns = split['columns'];
      if (!Array.isArray(rows))
        return fail(400, 'InvalidInput', `"${key ?? 'input_data'}.data" must be a list of rows`);
    } else {
      return fail(400, 'InvalidInput', `"${key ?? 'input_data'}" must be a list of rows or {"columns", "data"}`);
    }
    const list_ = rows as unknown[];
    if (list_.length === 0) return fail(400, 'InvalidInput', 'the request has no rows: "data" is empty');
    return this.inputs.mode === 'matrix' ? this.parseMatrix(list_, columns) : this.parseColumns(list_, columns);
  }

  private order(columns: unknown): ColumnOrder | RequestProblem {
    if (columns === undefined || columns === null) return this.identity;
    if (!Array.isArray(columns)) return problem(400, 'InvalidInput', '"columns" must be a list of column names');
    const key = columns.join('\u001f');
    const cached = this.orders.get(key);
    if (cached !== undefined && cached.perm.length === columns.length) return cached;
    const perm = new Int32Array(this.names.length).fill(-1);
    const unknown: string[] = [];
    for (let j = 0; j < columns.length; j++) {
      const name: unknown = columns[j];
      if (typeof name !== 'string') return problem(400, 'InvalidInput', `columns[${j}] is not a column name`);
      const k = this.index.get(name);
      if (k === undefined) unknown.push(name);
      else if (perm[k] !== -1) return problem(400, 'InvalidInput', `column '${name}' is given twice`);
      else perm[k] = j;
    }
    if (unknown.length > 0) {
      return problem(
        400,
        'UnknownColumn',
        `unknown column(s) ${list(unknown)}; the model's columns are ${list(this.names)}`,
      );
    }
    const missing = this.names.filter((_, k) => perm[k] === -1);
    if (missing.length > 0) {
      return problem(
        400,
        'MissingColumn',
        `missing column(s) ${list(missing)}; the model's columns are ${list(this.names)}`,
      );
    }
    const order = { perm };
    if (this.orders.size < 64) this.orders.set(key, order);
    return order;
  }

  private parseColumns(rows: unknown[], columnsField: unknown): ParsedRequest {
    const inputs = (this.inputs as { columns: readonly ColumnInput[] }).columns;
    const order = this.order(columnsField);
    if (!('perm' in order)) return { ok: false, problem: order };
    const width = columnsField === undefined || columnsField === null ? this.names.length : (columnsField as []).length;
    const n = rows.length;
    const feeds: Record<string, RuntimeTensor> = {};
    let shape = 'columns:';
    // Rows first: each must be a list of `width` cells or a record naming every column.
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (Array.isArray(row)) {
        if (row.length !== width) {
          return fail(
            400,
            'WrongRowWidth',
            `row ${r} has ${row.length} value(s); expected ${width} (${list(columnsField === undefined || columnsField === null ? this.names : (columnsField as string[]))})`,
          );
        }
      } else if (typeof row === 'object' && row !== null) {
        for (const name of this.names) {
          if (!(name in row)) return fail(400, 'MissingColumn', `row ${r} has no column '${name}'`);
        }
      } else return fail(400, 'InvalidInput', `row ${r} is not a list of values`);
    }
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k] as ColumnInput;
      const j = order.perm[k] as number;
      const tensor = columnTensor(input, rows, j, n);
      if ('problem' in tensor) return { ok: false, problem: tensor.problem };
      feeds[input.onnxName] = tensor;
      // Only token inputs [N, T] vary in width from request to request.
      if (input.encoding === 'tokens') shape += `${tensor.dims[1]},`;
    }
    return { ok: true, rows: n, feeds, shape };
  }

  private parseMatrix(rows: unknown[], columns: unknown): ParsedRequest {
    const inputs = this.inputs as Extract<ModelInputs, { mode: 'matrix' }>;
    const first = rows[0];
    const width = inputs.width ?? (Array.isArray(first) ? first.length : 0);
    if (Array.isArray(columns) && columns.length !== width) {
      return fail(
        400,
        'WrongRowWidth',
        `"columns" names ${columns.length} column(s); the model takes ${width} features`,
      );
    }
    const n = rows.length;
    const data = inputs.type === 'float' ? new Float32Array(n * width) : new Float64Array(n * width);
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (!Array.isArray(row)) return fail(400, 'InvalidInput', `row ${r} is not a list of values`);
      if (row.length !== width) {
        return fail(400, 'WrongRowWidth', `row ${r} has ${row.length} value(s); the model takes ${width} features`);
      }
      const base = r * width;
      for (let j = 0; j < width; j++) {
        const v: unknown = row[j];
        if (typeof v === 'number') data[base + j] = v;
        else if (v === null) data[base + j] = NaN;
        else if (typeof v === 'boolean') data[base + j] = v ? 1 : 0;
        else return fail(400, 'NotANumber', `row ${r}, feature ${j}: ${show(v)} is not a number`);
      }
    }
    const dims = [n, width];
    const tensor: RuntimeTensor =
      data instanceof Float32Array ? { type: 'float', dims, data } : { type: 'double', dims, data };
    return { ok: true, rows: n, feeds: { [inputs.onnxName]: tensor }, shape: `matrix:${width}` };
  }
}

/** The cell of row r for model column `input` at request position j (lists) or by name (records). */
function cell(row: unknown, j: number, column: string): unknown {
  return Array.isArray(row) ? row[j] : (row as Record<string, unknown>)[column];
}

function columnTensor(
  input: ColumnInput,
  rows: unknown[],
  j: number,
  n: number,
): RuntimeTensor | { problem: RequestProblem } {
  const name = input.column;
  switch (input.encoding) {
    case 'float':
    case 'double': {
      const data = input.encoding === 'float' ? new Float32Array(n) : new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const v = cell(rows[r], j, name);
        if (typeof v === 'number') data[r] = v;
        else if (v === null) data[r] = NaN;
        else if (typeof v === 'boolean') data[r] = v ? 1 : 0;
        else return bad(r, name, `${show(v)} is not a number`);
      }
      return data instanceof Float32Array
        ? { type: 'float', dims: [n, 1], data }
        : { type: 'double', dims: [n, 1], data };
    }
    case 'int64': {
      const data = new BigInt64Array(n);
      for (let r = 0; r < n; r++) {
        const v = cell(rows[r], j, name);
        if (typeof v === 'number' && Number.isSafeInteger(v)) data[r] = BigInt(v);
        else if (typeof v === 'boolean') data[r] = v ? 1n : 0n;
        else return bad(r, name, `${show(v)} is not an integer`);
      }
      return { type: 'int64', dims: [n, 1], data };
    }
    case 'epoch-ms': {
      const data = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const v = cell(rows[r], j, name);
        if (typeof v === 'number') data[r] = v;
        else if (v === null || v === '') data[r] = NaN;
        else if (typeof v === 'string') {
          const t = Date.parse(v);
          if (Number.isNaN(t)) return bad(r, name, `${show(v)} is not a date (ISO 8601 or epoch milliseconds)`);
          data[r] = t;
        } else return bad(r, name, `${show(v)} is not a date`);
      }
      return { type: 'double', dims: [n, 1], data };
    }
    case 'string': {
      const data = new Array<string>(n);
      for (let r = 0; r < n; r++) {
        const v = cell(rows[r], j, name);
        if (typeof v === 'string') data[r] = v;
        else if (v === null) data[r] = '';
        else if (typeof v === 'number' || typeof v === 'boolean') data[r] = String(v);
        else return bad(r, name, `${show(v)} is not a text value`);
      }
      return { type: 'string', dims: [n, 1], data };
    }
    case 'tokens': {
      // As featurize/onnx-io.ts toFeed does: [N, T] tokens padded with '', T ≥ 1.
      const tokens = new Array<string[]>(n);
      let width = 1;
      for (let r = 0; r < n; r++) {
        const v = cell(rows[r], j, name);
        let t: string[];
        if (typeof v === 'string' || v === null) t = tokenize(v);
        else if (typeof v === 'number' || typeof v === 'boolean') t = tokenize(String(v));
        else return bad(r, name, `${show(v)} is not a text value`);
        tokens[r] = t;
        if (t.length > width) width = t.length;
      }
      const data = new Array<string>(n * width).fill('');
      for (let r = 0; r < n; r++) {
        const t = tokens[r] as string[];
        for (let k = 0; k < t.length; k++) data[r * width + k] = t[k] as string;
      }
      return { type: 'string', dims: [n, width], data };
    }
  }
}

function bad(r: number, column: string, what: string): { problem: RequestProblem } {
  return { problem: problem(400, 'InvalidValue', `row ${r}, column '${column}': ${what}`) };
}

function problem(status: RequestProblem['status'], code: string, message: string): RequestProblem {
  return { status, code, message };
}

function fail(status: RequestProblem['status'], code: string, message: string): ParsedRequest {
  return { ok: false, problem: { status, code, message } };
}

/** A cell as the user wrote it, short: 'abc', true, {...}, [...]. */
function show(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}

function list(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

import { resolve as resolvePath } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { parse as parseCsv } from 'csv-parse';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { SchemaTree } from 'hyparquet';
import { formatDataUri, isFolderUri, parseDataUri, resolveDataUri, splitGlobUri } from '../domain/data-uri.js';
import { parseMLTable } from '../domain/mltable/parse-mltable.js';
import { compilePartitionFormat } from '../domain/mltable/partition-format.js';
import { PATH_COLUMN } from '../domain/mltable/plan.js';
import type { MLTableEncoding, MLTablePlan, ReadStep, TransformStep } from '../domain/mltable/plan.js';
import { bernoulliSampler } from '../domain/mltable/random-sample.js';
import { convertValue, describeValue, inferTextType, inferValueType, NO_VALUE } from '../domain/mltable/values.js';
import type { CellValue, ColumnSchema, ColumnType, RawValue, Row } from '../domain/mltable/values.js';
import { AppError, NotFoundError, ValidationError } from '../errors.js';
import type { DataAccess } from './data-access.js';

export type { CellValue, ColumnSchema, ColumnType, Row } from '../domain/mltable/values.js';

/*
 * How a table is read. The MLTable file is parsed into a plan (shared/domain/mltable); its
 * `paths` become a list of file URIs (folders and patterns listed through DataAccess); the read
 * step turns the files, one after another, into raw records (CSV via csv-parse, JSON lines by
 * line, Parquet via hyparquet, or just the paths); the typing stage holds back the first
 * `inferenceRows` records to choose each column's type, then converts every value (a value that
 * does not fit is an error naming file, record and column); the transformations wrap the record
 * stream in order; `limit` ends it. Everything is pulled lazily, so a preview reads only the
 * inference window, and stopping early closes the files.
 */

/** The name an MLTable file has inside its folder. */
export const MLTABLE_FILE = 'MLTable';
export const DEFAULT_INFERENCE_ROWS = 1000;
/** Parquet files are read whole into memory; larger ones are refused. */
export const DEFAULT_MAX_PARQUET_BYTES = 256 * 1024 * 1024;
export const MAX_MLTABLE_BYTES = 1024 * 1024;
export const MAX_PREVIEW_ROWS = 1000;

export type PreviewDataType = 'mltable' | 'uri_file' | 'uri_folder';

export interface OpenedTable {
  /** Columns known when the table opened; a later file may add one (it is appended here). */
  columns: ColumnSchema[];
  rows: AsyncIterable<Row>;
  /** URIs of the files read, in order. */
  files: string[];
}

export interface TablePreview {
  columns: ColumnSchema[];
  /** Row values in column order. */
  rows: CellValue[][];
}

export interface OpenTableOptions {
  /** Stop after this many rows (after every transformation). */
  limit?: number;
}

/** Executes MLTable plans over DataAccess: tabular reads, streamed row by row. */
export interface TableReader {
  /** Reads and parses `<folder>/MLTable` (a URI naming the MLTable file itself is accepted too). */
  loadMLTable(workspace: string, uri: string): Promise<{ plan: MLTablePlan; folder: string; file: string }>;
  /** Opens the MLTable at a folder URI. */
  open(workspace: string, uri: string, options?: OpenTableOptions): Promise<OpenedTable>;
  /** Runs a plan whose relative paths are relative to `folder`. */
  openPlan(workspace: string, plan: MLTablePlan, folder: string, options?: OpenTableOptions): Promise<OpenedTable>;
  /** The first rows and the inferred schema of an mltable, a tabular file, or a folder. */
  previewTable(
    workspace: string,
    uri: string,
    options?: { rows?: number; type?: PreviewDataType },
  ): Promise<TablePreview>;
}

export interface TableReaderOptions {
  data: DataAccess;
  /** Rows that text columns are typed from (default 1000). */
  inferenceRows?: number;
  maxParquetBytes?: number;
  /** Seed of take_random_sample when the MLTable gives none (default: a random one). */
  randomSeed?: () => number;
}

interface Rec {
  row: Row;
  /** URI of the file the row came from. */
  path: string;
  /** 1-based record number in that file (line for JSON lines). */
  line: number;
}

interface RawRec {
  row: Record<string, RawValue>;
  path: string;
  line: number;
}

interface Stage {
  columns: ColumnSchema[];
  records: AsyncIterable<Rec>;
}

type Typing = { kind: 'text' } | { kind: 'value' } | { kind: 'none' } | { kind: 'declared' };

export function createMLTableReader(options: TableReaderOptions): TableReader {
  const { data } = options;
  const inferenceRows = options.inferenceRows ?? DEFAULT_INFERENCE_ROWS;
  const maxParquetBytes = options.maxParquetBytes ?? DEFAULT_MAX_PARQUET_BYTES;
  const randomSeed = options.randomSeed ?? (() => Math.floor(Math.random() * 2 ** 32));

  async function readAll(workspace: string, uri: string, max: number, what: string): Promise<Buffer> {
    const stream = await data.open(workspace, uri);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of stream) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        size += buf.byteLength;
        if (size > max) {
          throw new ValidationError(
            `${uri} is larger than ${max} bytes, the most Tessera reads into memory for ${what}.`,
            { target: 'path' },
          );
        }
        chunks.push(buf);
      }
    } finally {
      stream.destroy();
    }
    return Buffer.concat(chunks);
  }

  async function loadMLTable(
    workspace: string,
    uri: string,
  ): Promise<{ plan: MLTablePlan; folder: string; file: string }> {
    const { file, folder } = mltableLocation(uri);
    let text: string;
    try {
      text = (await readAll(workspace, file, MAX_MLTABLE_BYTES, 'an MLTable file')).toString('utf8');
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new NotFoundError(
          `No MLTable file at ${file}: an mltable's path is a folder holding a file named '${MLTABLE_FILE}'.`,
          { target: 'path', cause: err },
        );
      }
      throw err;
    }
    return { plan: parseMLTable(text, file), folder, file };
  }

  /**
   * The files the paths name, in order. A folder or pattern listing leaves out the MLTable file
   * being read: it describes the data, it is not data.
   */
  async function resolveFiles(
    workspace: string,
    plan: MLTablePlan,
    folder: string,
    mltableFile: string | undefined,
  ): Promise<string[]> {
    const files: string[] = [];
    const notSelf = (uri: string): boolean => mltableFile === undefined || !sameLocation(uri, mltableFile);
    for (const p of plan.paths) {
      const uri = resolveDataUri(folder, p.value);
      if (p.kind === 'file') {
        files.push(uri);
      } else if (p.kind === 'folder') {
        const listed = (await data.list(workspace, /[\\/]$/.test(uri) ? uri : `${uri}/`)).filter(notSelf);
        if (listed.length === 0) throw new NotFoundError(`The folder ${uri} (paths: folder) holds no files.`);
        files.push(...listed);
      } else {
        const { folder: base, pattern } = splitGlobUri(uri);
        const listed = (await data.list(workspace, base, { pattern })).filter(notSelf);
        if (listed.length === 0) throw new NotFoundError(`No file matches the pattern ${uri} (paths: pattern).`);
        files.push(...listed);
      }
    }
    return files;
  }

  async function openPlan(
    workspace: string,
    plan: MLTablePlan,
    folder: string,
    openOptions: OpenTableOptions = {},
    mltableFile?: string,
  ): Promise<OpenedTable> {
    const limit = openOptions.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw new RangeError(`limit must be a non-negative integer; got ${String(limit)}.`);
    }
    const files = await resolveFiles(workspace, plan, folder, mltableFile);
    let stage = await readStage(workspace, plan.read, files);
    for (const step of plan.steps) stage = applyStep(stage, step, randomSeed);
    const records = limit === undefined ? stage.records : take(stage.records, limit);
    return { columns: stage.columns, rows: mapIter(records, (r) => r.row), files };
  }

  async function readStage(workspace: string, read: ReadStep, files: string[]): Promise<Stage> {
    switch (read.kind) {
      case 'paths':
        return {
          columns: [{ name: PATH_COLUMN, type: 'string' }],
          records: (async function* () {
            let line = 0;
            for (const f of files) yield { row: { [PATH_COLUMN]: f }, path: f, line: ++line };
          })(),
        };
      case 'delimited': {
        const names: string[] = [];
        const source = delimitedRecords(data, workspace, files, read, names);
        const typing: Typing = read.inferColumnTypes ? { kind: 'text' } : { kind: 'none' };
        return typeRecords(source, names, typing, new Map(), pathColumnOf(read), inferenceRows);
      }
      case 'json_lines': {
        const names: string[] = [];
        const source = jsonLineRecords(data, workspace, files, read, names);
        return typeRecords(source, names, { kind: 'value' }, new Map(), pathColumnOf(read), inferenceRows);
      }
      case 'parquet': {
        const names: string[] = [];
        const declared = new Map<string, ColumnType>();
        const source = parquetRecords(workspace, files, names, declared);
        return typeRecords(source, names, { kind: 'declared' }, declared, pathColumnOf(read), inferenceRows);
      }
    }
  }

  async function* parquetRecords(
    workspace: string,
    files: string[],
    names: string[],
    declared: Map<string, ColumnType>,
  ): AsyncGenerator<RawRec> {
    for (const file of files) {
      const info = await data.stat(workspace, file);
      if (info?.size !== undefined && info.size > maxParquetBytes) {
        throw new ValidationError(
          `${file} has ${info.size} bytes; Tessera reads Parquet files whole into memory and only up to ` +
            `${maxParquetBytes} bytes. Split it into smaller files (paths: pattern reads them all).`,
          { target: 'path' },
        );
      }
      const bytes = await readAll(workspace, file, maxParquetBytes, 'a Parquet file');
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      let total: number;
      try {
        const metadata = parquetMetadata(buffer);
        total = Number(metadata.num_rows);
        for (const child of parquetSchema(metadata).children) {
          const name = child.element.name;
          if (!declared.has(name)) {
            declared.set(name, parquetColumnType(child));
            names.push(name);
          }
        }
      } catch (err) {
        throw new ValidationError(`${file} is not a readable Parquet file: ${(err as Error).message}`, {
          target: 'path',
          cause: err,
        });
      }
      const batch = 4096;
      for (let start = 0; start < total; start += batch) {
        let objects: Record<string, unknown>[];
        try {
          objects = await parquetReadObjects({ file: buffer, rowStart: start, rowEnd: Math.min(total, start + batch) });
        } catch (err) {
          throw new ValidationError(`Cannot read ${file} as Parquet: ${(err as Error).message}`, {
            target: 'path',
            cause: err,
          });
        }
        for (let i = 0; i < objects.length; i++) {
          const o = objects[i] ?? {};
          const row: Record<string, RawValue> = {};
          for (const [k, v] of Object.entries(o)) row[k] = parquetValue(v, file, k);
          yield { row, path: file, line: start + i + 1 };
        }
      }
    }
  }

  async function open(workspace: string, uri: string, openOptions: OpenTableOptions = {}): Promise<OpenedTable> {
    const { plan, folder, file } = await loadMLTable(workspace, uri);
    return openPlan(workspace, plan, folder, openOptions, file);
  }

  return {
    loadMLTable,
    open,
    openPlan: (workspace, plan, folder, openOptions) => openPlan(workspace, plan, folder, openOptions),

    async previewTable(workspace, uri, previewOptions = {}) {
      const rows = previewOptions.rows ?? 10;
      if (!Number.isInteger(rows) || rows < 1 || rows > MAX_PREVIEW_ROWS) {
        throw new ValidationError(`rows must be an integer from 1 to ${MAX_PREVIEW_ROWS}; got ${String(rows)}.`, {
          target: 'rows',
        });
      }
      const type = previewOptions.type ?? 'mltable';
      let opened: OpenedTable;
      if (type === 'mltable') {
        opened = await open(workspace, uri, { limit: rows });
      } else if (type === 'uri_file') {
        opened = await openPlan(workspace, filePlan(uri), './', { limit: rows });
      } else {
        const folder = /[\\/]$/.test(uri) ? uri : `${uri}/`;
        const hasMLTable = (await data.stat(workspace, `${folder}${MLTABLE_FILE}`)) !== undefined;
        opened = hasMLTable
          ? await open(workspace, folder, { limit: rows })
          : await openPlan(
              workspace,
              { paths: [{ kind: 'folder', value: folder }], read: { kind: 'paths' }, steps: [], traits: {} },
              './',
              { limit: rows },
            );
      }
      const collected: Row[] = [];
      for await (const row of opened.rows) collected.push(row);
      return {
        columns: opened.columns.map((c) => ({ ...c })),
        rows: collected.map((row) => opened.columns.map((c) => row[c.name] ?? null)),
      };
    },
  };
}

/** Whether two URIs name the same object (local paths compared once resolved). */
function sameLocation(a: string, b: string): boolean {
  const x = parseDataUri(a);
  const y = parseDataUri(b);
  if (x.scheme === 'file' && y.scheme === 'file') return resolvePath(x.path) === resolvePath(y.path);
  return formatDataUri(x) === formatDataUri(y);
}

function pathColumnOf(read: { includePathColumn: boolean; pathColumn: string }): string | undefined {
  return read.includePathColumn ? read.pathColumn : undefined;
}

/** Where the MLTable file of a URI is, and the folder its relative paths start from. */
function mltableLocation(uri: string): { file: string; folder: string } {
  const u = parseDataUri(uri);
  if (!isFolderUri(u) && /(^|[\\/])MLTable$/.test(uri)) {
    return { file: uri, folder: uri.slice(0, uri.length - MLTABLE_FILE.length) || './' };
  }
  const folder = isFolderUri(u) ? uri : `${uri}/`;
  return { file: `${folder}${MLTABLE_FILE}`, folder };
}

/** How a single uri_file is read, by its extension. */
function filePlan(uri: string): MLTablePlan {
  const u = parseDataUri(uri);
  const path = u.scheme === 'http' ? new URL(u.url).pathname : u.scheme === 'file' ? u.path : u.path;
  const ext = (/\.([A-Za-z0-9]+)$/.exec(path)?.[1] ?? '').toLowerCase();
  const base = { paths: [{ kind: 'file' as const, value: uri }], steps: [], traits: {} };
  const delimited = (delimiter: string): ReadStep => ({
    kind: 'delimited',
    delimiter,
    header: 'all_files_same_headers',
    encoding: 'utf8',
    emptyAsString: false,
    includePathColumn: false,
    pathColumn: PATH_COLUMN,
    inferColumnTypes: true,
    supportMultiLine: true,
  });
  switch (ext) {
    case 'csv':
      return { ...base, read: delimited(',') };
    case 'tsv':
    case 'tab':
      return { ...base, read: delimited('\t') };
    case 'jsonl':
    case 'ndjson':
      return {
        ...base,
        read: {
          kind: 'json_lines',
          encoding: 'utf8',
          includePathColumn: false,
          pathColumn: PATH_COLUMN,
          invalidLines: 'error',
        },
      };
    case 'parquet':
    case 'pq':
      return { ...base, read: { kind: 'parquet', includePathColumn: false, pathColumn: PATH_COLUMN } };
    default:
      throw new ValidationError(
        `Cannot preview ${uri}: its extension '${ext === '' ? '(none)' : ext}' is not a tabular format ` +
          '(csv, tsv, jsonl, parquet). Describe the file with an MLTable to preview it.',
        { target: 'path' },
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Readers: raw records of each format.
// ---------------------------------------------------------------------------------------------

/** Text of a byte stream in an MLTable encoding; a byte-order mark is dropped. */
async function* decodeText(stream: Readable, encoding: MLTableEncoding, file: string): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  const labelOf = (first: Uint8Array): string => {
    switch (encoding) {
      case 'utf8':
      case 'utf8bom':
        return 'utf-8';
      case 'utf16':
        return first[0] === 0xfe && first[1] === 0xff ? 'utf-16be' : 'utf-16le';
      case 'utf32':
        throw new ValidationError(`${file}: utf32 is not supported; convert the file to utf8.`, { target: 'encoding' });
      default:
        // ascii, latin1 and iso88591 are windows-1252 in the WHATWG Encoding Standard; it decodes every byte.
        return 'windows-1252';
    }
  };
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    decoder ??= new TextDecoder(labelOf(bytes));
    const text = decoder.decode(bytes, { stream: true });
    if (text !== '') yield text;
  }
  const rest = decoder?.decode() ?? '';
  if (rest !== '') yield rest;
}

/** Header names made usable: an empty name becomes ColumnN, a repeated one gets _1, _2… */
function uniqueNames(fields: readonly string[]): string[] {
  const out: string[] = [];
  fields.forEach((f, i) => {
    let name = f === '' ? `Column${i + 1}` : f;
    if (out.includes(name)) {
      let k = 1;
      while (out.includes(`${name}_${k}`)) k++;
      name = `${name}_${k}`;
    }
    out.push(name);
  });
  return out;
}

async function* delimitedRecords(
  data: DataAccess,
  workspace: string,
  files: string[],
  read: Extract<ReadStep, { kind: 'delimited' }>,
  names: string[],
): AsyncGenerator<RawRec> {
  let shared: string[] | undefined;
  for (const [fileIndex, file] of files.entries()) {
    const stream = await data.open(workspace, file);
    const parser = parseCsv({ delimiter: read.delimiter, relax_column_count: true, skip_empty_lines: true });
    pipeline(Readable.from(decodeText(stream, read.encoding, file)), parser, () => undefined);
    let own: string[] | undefined;
    let first = true;
    let line = 0;
    try {
      for await (const fields of parser as AsyncIterable<string[]>) {
        if (first) {
          first = false;
          const headerHere =
            read.header === 'all_files_same_headers' ||
            read.header === 'all_files_different_headers' ||
            (read.header === 'from_first_file' && fileIndex === 0);
          if (headerHere) {
            const header = uniqueNames(fields);
            if (read.header === 'all_files_different_headers') {
              own = header;
              for (const n of header) if (!names.includes(n)) names.push(n);
            } else if (shared === undefined) {
              shared = header;
              names.push(...header);
            } else if (header.join('\u0000') !== shared.join('\u0000')) {
              throw new ValidationError(
                `${file} has the header [${header.join(', ')}], but the first file has [${shared.join(', ')}]. ` +
                  'Use header: all_files_different_headers when files differ.',
                { target: 'header' },
              );
            }
            continue;
          }
          if (shared === undefined) {
            // no_header: columns are named by position.
            shared = fields.map((_, i) => `Column${i + 1}`);
            names.push(...shared);
          }
        }
        line++;
        const columns = own ?? shared ?? [];
        if (fields.length > columns.length) {
          if (read.header !== 'no_header') {
            throw new ValidationError(
              `${file} record ${line} has ${fields.length} fields, but the header names ${columns.length} columns.`,
              { target: 'path' },
            );
          }
          for (let i = columns.length; i < fields.length; i++) {
            columns.push(`Column${i + 1}`);
            if (!names.includes(`Column${i + 1}`)) names.push(`Column${i + 1}`);
          }
        }
        const row: Record<string, RawValue> = {};
        columns.forEach((c, i) => {
          const v = fields[i];
          row[c] = v === undefined || (v === '' && !read.emptyAsString) ? null : v;
        });
        yield { row, path: file, line };
      }
    } catch (err) {
      throw err instanceof AppError
        ? err
        : new ValidationError(`Cannot read ${file} as delimited text: ${(err as Error).message}`, {
            target: 'path',
            cause: err,
          });
    } finally {
      stream.destroy();
      parser.destroy();
    }
  }
}

async function* jsonLineRecords(
  data: DataAccess,
  workspace: string,
  files: string[],
  read: Extract<ReadStep, { kind: 'json_lines' }>,
  names: string[],
): AsyncGenerator<RawRec> {
  for (const file of files) {
    const stream = await data.open(workspace, file);
    let line = 0;
    let pending = '';
    const parseLine = (text: string): RawRec | undefined => {
      line++;
      const t = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (t.trim() === '') return undefined;
      let value: unknown;
      try {
        value = JSON.parse(t);
      } catch (err) {
        if (read.invalidLines === 'drop') return undefined;
        throw new ValidationError(
          `${file} line ${line} is not valid JSON (${(err as Error).message}); set invalid_lines: drop to skip such lines.`,
          { target: 'path' },
        );
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        if (read.invalidLines === 'drop') return undefined;
        throw new ValidationError(
          `${file} line ${line} is not a JSON object; each line must be one object. Set invalid_lines: drop to skip such lines.`,
          { target: 'path' },
        );
      }
      const row: Record<string, RawValue> = {};
      for (const [k, v] of Object.entries(value)) {
        if (!names.includes(k)) names.push(k);
        row[k] =
          v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
            ? v
            : JSON.stringify(v);
      }
      return { row, path: file, line };
    };
    try {
      for await (const text of decodeText(stream, read.encoding, file)) {
        pending += text;
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const rec = parseLine(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          if (rec !== undefined) yield rec;
          nl = pending.indexOf('\n');
        }
      }
      if (pending !== '') {
        const rec = parseLine(pending);
        if (rec !== undefined) yield rec;
      }
    } finally {
      stream.destroy();
    }
  }
}

function parquetColumnType(node: SchemaTree): ColumnType {
  const el = node.element;
  if (node.children.length > 0) return 'string';
  const logical = el.logical_type?.type;
  const converted = el.converted_type;
  if (
    logical === 'TIMESTAMP' ||
    logical === 'DATE' ||
    converted === 'DATE' ||
    converted === 'TIMESTAMP_MILLIS' ||
    converted === 'TIMESTAMP_MICROS' ||
    el.type === 'INT96'
  ) {
    return 'datetime';
  }
  if (logical === 'DECIMAL' || converted === 'DECIMAL' || logical === 'FLOAT16') return 'float';
  switch (el.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
    case 'INT64':
      return 'int';
    case 'FLOAT':
    case 'DOUBLE':
      return 'float';
    default:
      return 'string';
  }
}

function parquetValue(v: unknown, file: string, column: string): RawValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ValidationError(
        `${file} column '${column}' holds ${v.toString()}, beyond the integers JavaScript numbers represent exactly ` +
          `(±${Number.MAX_SAFE_INTEGER}); Tessera refuses to round it.`,
        { target: 'path' },
      );
    }
    return Number(v);
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

// ---------------------------------------------------------------------------------------------
// Typing: column types inferred from the first rows (or declared), then every value converted.
// ---------------------------------------------------------------------------------------------

async function typeRecords(
  source: AsyncGenerator<RawRec>,
  names: string[],
  typing: Typing,
  declared: Map<string, ColumnType>,
  /** The column that gets each row's file URI; undefined for none. */
  pathColumn: string | undefined,
  inferenceRows: number,
): Promise<Stage> {
  const buffered: RawRec[] = [];
  let done = false;
  while (buffered.length < inferenceRows) {
    const next = await source.next();
    if (next.done === true) {
      done = true;
      break;
    }
    buffered.push(next.value);
  }
  const types = new Map<string, ColumnType>();
  const typeOf = (name: string, sample: readonly RawRec[]): ColumnType => {
    if (name === pathColumn) return 'string';
    switch (typing.kind) {
      case 'none':
        return 'string';
      case 'declared':
        return declared.get(name) ?? 'string';
      case 'value':
        return inferValueType(sample.map((r) => r.row[name] ?? null));
      case 'text':
        return inferTextType(sample.map((r) => toText(r.row[name] ?? null)));
    }
  };
  if (pathColumn !== undefined && !names.includes(pathColumn)) names.push(pathColumn);
  const columns: ColumnSchema[] = names.map((name) => {
    const type = typeOf(name, buffered);
    types.set(name, type);
    return { name, type };
  });

  const convert = (r: RawRec): Rec => {
    const row: Row = {};
    // A column first seen after the inference rows (a later file's header, a later JSON key) is typed by its first value.
    for (const name of names) {
      if (!types.has(name)) {
        const type = typeOf(name, [r]);
        types.set(name, type);
        columns.push({ name, type });
      }
    }
    for (const c of columns) {
      const raw = c.name === pathColumn ? r.path : (r.row[c.name] ?? null);
      const v = convertValue(raw, c.type);
      if (v === NO_VALUE) {
        throw new ValidationError(
          `${r.path} record ${r.line}: column '${c.name}' holds ${describeValue(raw)}, which is not ${c.type} ` +
            `(the type ${typing.kind === 'declared' ? 'the file declares' : `inferred from the first ${inferenceRows} rows`}). ` +
            'Convert the column to string with convert_column_types, or set infer_column_types: false.',
          { target: c.name },
        );
      }
      row[c.name] = v;
    }
    return { row, path: r.path, line: r.line };
  };

  return {
    columns,
    records: (async function* () {
      try {
        for (const r of buffered) yield convert(r);
        while (!done) {
          const next = await source.next();
          if (next.done === true) break;
          yield convert(next.value);
        }
      } finally {
        await source.return(undefined);
      }
    })(),
  };
}

function toText(v: RawValue): string | null {
  if (v === null) return null;
  return v instanceof Date ? v.toISOString() : String(v);
}

// ---------------------------------------------------------------------------------------------
// Transformations after the read.
// ---------------------------------------------------------------------------------------------

function requireColumns(stage: Stage, wanted: readonly string[], step: string): void {
  const have = new Set(stage.columns.map((c) => c.name));
  const missing = wanted.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new ValidationError(
      `${step}: no column ${missing.map((m) => `'${m}'`).join(', ')}; the table has ${stage.columns
        .map((c) => `'${c.name}'`)
        .join(', ')}.`,
      { target: step },
    );
  }
}

function applyStep(stage: Stage, step: TransformStep, randomSeed: () => number): Stage {
  switch (step.kind) {
    case 'take':
      return { columns: stage.columns, records: take(stage.records, step.count) };
    case 'skip':
      return { columns: stage.columns, records: skip(stage.records, step.count) };
    case 'take_random_sample': {
      const keep = bernoulliSampler(step.probability, step.seed ?? randomSeed());
      return { columns: stage.columns, records: filterIter(stage.records, () => keep()) };
    }
    case 'drop_columns':
    case 'keep_columns': {
      requireColumns(stage, step.columns, step.kind);
      const listed = new Set(step.columns);
      const kept = stage.columns.filter((c) => listed.has(c.name) === (step.kind === 'keep_columns'));
      return {
        columns: kept,
        records: mapIter(stage.records, (r) => {
          const row: Row = {};
          for (const c of kept) row[c.name] = r.row[c.name] ?? null;
          return { ...r, row };
        }),
      };
    }
    case 'convert_column_types': {
      const conversions = new Map<string, (typeof step.conversions)[number]['to']>();
      for (const c of step.conversions) {
        requireColumns(stage, c.columns, 'convert_column_types');
        for (const name of c.columns) conversions.set(name, c.to);
      }
      const columns = stage.columns.map((c) => {
        const to = conversions.get(c.name);
        return to === undefined ? c : { name: c.name, type: to.type };
      });
      return {
        columns,
        records: mapIter(stage.records, (r) => {
          const row: Row = { ...r.row };
          for (const [name, to] of conversions) {
            const raw = r.row[name] ?? null;
            const v = convertValue(raw, to.type, {
              ...(to.type === 'datetime' ? { formats: to.formats } : {}),
              ...(to.type === 'boolean' ? { boolean: to.boolean } : {}),
            });
            if (v === NO_VALUE) {
              const hint =
                to.type === 'datetime'
                  ? to.formats.length === 0
                    ? ' Give datetime: { formats: [...] } for a format other than ISO 8601.'
                    : ` None of the formats ${to.formats.join(', ')} matches.`
                  : '';
              throw new ValidationError(
                `convert_column_types: ${r.path} record ${r.line}, column '${name}': ${describeValue(raw)} is not ${to.type}.${hint}`,
                { target: name },
              );
            }
            row[name] = v;
          }
          return { ...r, row };
        }),
      };
    }
    case 'extract_columns_from_partition_format': {
      const format = compilePartitionFormat(step.format);
      const clash = format.columns.find((c) => stage.columns.some((s) => s.name === c.name));
      if (clash !== undefined) {
        throw new ValidationError(
          `extract_columns_from_partition_format: the table already has a column '${clash.name}'.`,
          { target: step.kind },
        );
      }
      return {
        columns: [...stage.columns, ...format.columns],
        records: mapIter(stage.records, (r) => {
          const extracted = format.match(pathOf(r.path));
          const row: Row = { ...r.row };
          for (const c of format.columns) row[c.name] = extracted?.[c.name] ?? null;
          return { ...r, row };
        }),
      };
    }
  }
}

/** The path part of a file URI (what partition formats describe). */
function pathOf(uri: string): string {
  const u = parseDataUri(uri);
  if (u.scheme === 'http') return new URL(u.url).pathname;
  return u.path.replace(/\\/g, '/');
}

async function* take<T>(source: AsyncIterable<T>, count: number): AsyncGenerator<T> {
  if (count <= 0) {
    // Start the source and stop it at once, so that the files it opened are closed.
    for await (const _item of source) break;
    return;
  }
  let n = 0;
  for await (const item of source) {
    yield item;
    if (++n >= count) return;
  }
}

async function* skip<T>(source: AsyncIterable<T>, count: number): AsyncGenerator<T> {
  let n = 0;
  for await (const item of source) {
    if (n++ < count) continue;
    yield item;
  }
}

async function* filterIter<T>(source: AsyncIterable<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of source) if (keep(item)) yield item;
}

async function* mapIter<T, U>(source: AsyncIterable<T>, fn: (item: T) => U): AsyncGenerator<U> {
  for await (const item of source) yield fn(item);
}

import { parseDocument } from 'yaml';
import type { Tags } from 'yaml';
import { parseSpec, SpecError } from '../../contracts/azureml/index.js';
import type { MLTableSpec } from '../../contracts/azureml/index.js';
import type { ErrorDetail } from '../../errors.js';
import { compilePartitionFormat } from './partition-format.js';
import { PATH_COLUMN } from './plan.js';
import type {
  ColumnConversion,
  DelimitedHeader,
  MLTableEncoding,
  MLTablePlan,
  PathSpec,
  ReadStep,
  TransformStep,
} from './plan.js';
import { checkStrftimeFormat } from './values.js';

/**
 * MLTable text → plan. The document is validated against the MLTable contract
 * (shared/contracts/azureml/mltable.ts); what the contract accepts but Tessera cannot run, and the
 * rules of order (one read, first), are SpecErrors naming the file and the key path too.
 */

const NOT_SUPPORTED: Record<string, { problem: string; hint: string }> = {
  filter: {
    problem: 'the filter transformation (an expression language) is not supported by Tessera',
    hint: 'remove it and filter the rows after reading',
  },
  read_delta_lake: {
    problem: 'Delta Lake tables are not supported by Tessera',
    hint: 'export the table to Parquet and use read_parquet',
  },
};

type Options = Record<string, unknown>;

class Problems {
  readonly details: ErrorDetail[] = [];
  private first: { keyPath: string; problem: string; hint: string } | undefined;
  constructor(readonly file: string) {}

  add(keyPath: string, problem: string, hint: string): void {
    this.first ??= { keyPath, problem, hint };
    this.details.push({ target: keyPath, message: problem });
  }

  throwIfAny(): void {
    if (this.first === undefined) return;
    throw new SpecError({ file: this.file, ...this.first, details: this.details });
  }
}

/** Parses the text of an MLTable file into a plan. `file` names it in errors (its URI). */
export function parseMLTable(text: string, file: string): MLTablePlan {
  const doc = parseDocument(text.startsWith('\uFEFF') ? text.slice(1) : text, {
    version: '1.1',
    customTags: pyyamlTags,
    uniqueKeys: true,
  });
  const error = doc.errors[0];
  if (error !== undefined) {
    const position = error.linePos?.[0];
    throw new SpecError({
      file,
      keyPath: '',
      line: position?.line,
      column: position?.col,
      showPosition: true,
      problem: `YAML syntax error: ${error.message.split('\n')[0] ?? error.message}`,
      hint: 'fix the YAML at that line and column',
      cause: error,
    });
  }
  const spec: MLTableSpec = parseSpec('mltable', doc.toJS(), { file });
  return planOf(spec, file);
}

/**
 * YAML 1.1 as PyYAML (which the mltable package uses) reads it: yes/no/on/off are booleans, but
 * single-letter y/n stay strings (`true_values: [Y]`), and dates stay text. The same reading as
 * shared/domain/azureml/spec-loader.ts gives the other Azure ML specs.
 */
function pyyamlTags(tags: Tags): Tags {
  const out: Tags = [];
  for (const tag of tags) {
    if (typeof tag === 'string') {
      out.push(tag);
    } else if (tag.tag === 'tag:yaml.org,2002:timestamp' || tag.format === 'TIME') {
      continue;
    } else if (tag.tag === 'tag:yaml.org,2002:bool' && tag.test !== undefined) {
      const isTrue = tag.test.test('true');
      out.push({
        ...tag,
        test: isTrue ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
      });
    } else {
      out.push(tag);
    }
  }
  return out;
}

/** The plan of a validated MLTable spec. */
export function planOf(spec: MLTableSpec, file: string): MLTablePlan {
  const problems = new Problems(file);
  const paths: PathSpec[] = spec.paths.map((p) =>
    'file' in p
      ? { kind: 'file', value: p.file }
      : 'folder' in p
        ? { kind: 'folder', value: p.folder }
        : { kind: 'pattern', value: p.pattern },
  );

  let read: ReadStep | undefined;
  const steps: TransformStep[] = [];
  (spec.transformations ?? []).forEach((t: unknown, i: number) => {
    const where = `transformations.${i}`;
    let name: string;
    let arg: unknown;
    if (typeof t === 'string') {
      name = t;
      arg = undefined;
    } else {
      const entries = Object.entries((t ?? {}) as Options).filter(([, v]) => v !== undefined);
      const [entry] = entries;
      if (entries.length !== 1 || entry === undefined) {
        problems.add(
          where,
          entries.length === 0 ? 'names no transformation' : `names ${entries.length} transformations in one item`,
          'write one transformation per list item, like - take: 10',
        );
        return;
      }
      [name, arg] = entry;
    }
    const at = `${where}.${name}`;
    const unsupported = NOT_SUPPORTED[name];
    if (unsupported !== undefined) {
      problems.add(at, unsupported.problem, unsupported.hint);
      return;
    }
    if (name.startsWith('read_')) {
      if (read !== undefined) {
        problems.add(at, 'a second read_* transformation', 'a table is read once; keep one read_* transformation');
        return;
      }
      if (i !== 0) problems.add(at, 'the read_* transformation is not the first', 'move it to the top of the list');
      read = readStep(name, (arg ?? {}) as Options, at, problems);
      return;
    }
    const step = transformStep(name, arg, at, problems);
    if (step !== undefined) steps.push(step);
  });
  problems.throwIfAny();

  const indexColumns = spec.traits?.index_columns;
  return {
    paths,
    read: read ?? { kind: 'paths' },
    steps,
    traits: {
      ...(spec.traits?.timestamp_column === undefined ? {} : { timestampColumn: spec.traits.timestamp_column }),
      ...(indexColumns === undefined ? {} : { indexColumns: asList(indexColumns) }),
    },
  };
}

function asList(columns: string | readonly string[]): string[] {
  return typeof columns === 'string' ? [columns] : [...columns];
}

function encodingOf(o: Options, at: string, problems: Problems): MLTableEncoding {
  const e = (o['encoding'] ?? 'utf8') as MLTableEncoding;
  if (e === 'utf32') problems.add(`${at}.encoding`, 'utf32 is not supported by Tessera', 'convert the files to utf8');
  return e;
}

function pathColumnOf(o: Options): string {
  return typeof o['path_column'] === 'string' && o['path_column'] !== '' ? o['path_column'] : PATH_COLUMN;
}

// `partition_size` is accepted and has no effect: it sizes Azure ML's parallel read, not the rows.
function readStep(name: string, o: Options, at: string, problems: Problems): ReadStep | undefined {
  switch (name) {
    case 'read_delimited': {
      const delimiter = typeof o['delimiter'] === 'string' ? o['delimiter'] : ',';
      if (delimiter === '') problems.add(`${at}.delimiter`, 'the delimiter is empty', "give one, like ',' or '\\t'");
      return {
        kind: 'delimited',
        // In single quotes YAML '\t' is a backslash and a t; a tab is what everyone means.
        delimiter: delimiter === '\\t' ? '\t' : delimiter,
        header: (o['header'] ?? 'all_files_same_headers') as DelimitedHeader,
        encoding: encodingOf(o, at, problems),
        emptyAsString: o['empty_as_string'] === true,
        includePathColumn: o['include_path_column'] === true,
        pathColumn: pathColumnOf(o),
        inferColumnTypes: o['infer_column_types'] !== false,
        supportMultiLine: o['support_multi_line'] === true,
      };
    }
    case 'read_json_lines':
      return {
        kind: 'json_lines',
        encoding: encodingOf(o, at, problems),
        includePathColumn: o['include_path_column'] === true,
        pathColumn: pathColumnOf(o),
        invalidLines: o['invalid_lines'] === 'drop' ? 'drop' : 'error',
      };
    case 'read_parquet':
      return { kind: 'parquet', includePathColumn: o['include_path_column'] === true, pathColumn: pathColumnOf(o) };
    default:
      problems.add(at, 'an unknown read transformation', 'use read_delimited, read_json_lines or read_parquet');
      return undefined;
  }
}

function columnsOf(value: unknown, at: string, problems: Problems): string[] | undefined {
  const list = asList(value as string | string[]);
  if (list.length === 0 || list.some((c) => c === '')) {
    problems.add(at, 'names no column, or an empty one', 'list the column names');
    return undefined;
  }
  return list;
}

function transformStep(name: string, arg: unknown, at: string, problems: Problems): TransformStep | undefined {
  switch (name) {
    case 'take':
    case 'skip':
      return { kind: name, count: arg as number };
    case 'take_random_sample': {
      const o = arg as { probability: number; seed?: number };
      if (!(o.probability > 0 && o.probability <= 1)) {
        problems.add(
          `${at}.probability`,
          `expected a probability in (0, 1], found ${o.probability}`,
          'give the share of rows to keep, like 0.1',
        );
        return undefined;
      }
      return {
        kind: 'take_random_sample',
        probability: o.probability,
        ...(o.seed === undefined ? {} : { seed: o.seed }),
      };
    }
    case 'drop_columns':
    case 'keep_columns': {
      const columns = columnsOf(arg, at, problems);
      return columns === undefined ? undefined : { kind: name, columns };
    }
    case 'convert_column_types': {
      const conversions: { columns: string[]; to: ColumnConversion }[] = [];
      (arg as { columns: string | string[]; column_type: unknown }[]).forEach((entry, i) => {
        const columns = columnsOf(entry.columns, `${at}.${i}.columns`, problems);
        const to = columnConversion(entry.column_type, `${at}.${i}.column_type`, problems);
        if (columns !== undefined && to !== undefined) conversions.push({ columns, to });
      });
      if (conversions.length === 0 && problems.details.length === 0) {
        problems.add(at, 'lists no conversion', 'give - columns: <name> and column_type: <type> entries');
      }
      return { kind: 'convert_column_types', conversions };
    }
    case 'extract_columns_from_partition_format': {
      const format = typeof arg === 'string' ? arg : (arg as { partition_format: string }).partition_format;
      try {
        compilePartitionFormat(format);
      } catch (err) {
        problems.add(
          at,
          `the format ${JSON.stringify(format)} is invalid: ${(err as Error).message}`,
          "write it like '/{year}/{month}/' or '{Date:yyyy/MM/dd}/'",
        );
        return undefined;
      }
      return { kind: 'extract_columns_from_partition_format', format };
    }
    default:
      problems.add(at, 'an unknown transformation', 'see the MLTable documentation for the supported ones');
      return undefined;
  }
}

function columnConversion(value: unknown, at: string, problems: Problems): ColumnConversion | undefined {
  if (value === 'int' || value === 'float' || value === 'string') return { type: value };
  if (value === 'boolean') return { type: 'boolean', boolean: { mismatchAs: 'error' } };
  if (value === 'datetime') return { type: 'datetime', formats: [] };
  if (value === 'stream_info') {
    problems.add(at, 'stream_info columns are not supported by Tessera', 'read the files by their paths instead');
    return undefined;
  }
  if (value !== null && typeof value === 'object' && 'datetime' in value) {
    const formats = asList((value as { datetime: { formats: string[] } }).datetime.formats);
    formats.forEach((f, i) => {
      const why = checkStrftimeFormat(f);
      if (why !== undefined) problems.add(`${at}.datetime.formats.${i}`, why, 'fix the format');
    });
    return { type: 'datetime', formats };
  }
  if (value !== null && typeof value === 'object' && 'boolean' in value) {
    const b = (value as { boolean: { true_values?: string[]; false_values?: string[]; mismatch_as?: string } }).boolean;
    return {
      type: 'boolean',
      boolean: {
        ...(b.true_values === undefined ? {} : { trueValues: b.true_values }),
        ...(b.false_values === undefined ? {} : { falseValues: b.false_values }),
        mismatchAs: b.mismatch_as === 'true' || b.mismatch_as === 'false' ? b.mismatch_as : 'error',
      },
    };
  }
  problems.add(at, `an unknown column type ${JSON.stringify(value)}`, 'use int, float, boolean, string or datetime');
  return undefined;
}

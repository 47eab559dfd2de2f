/**
 * Azure ML's `featurization:` settings of a tabular AutoML job (parsed by the contract
 * `tabularFeaturization`), checked against the training table and turned into what Tessera's
 * featurizer does. What maps to what:
 *
 * - `mode: auto` — types are inferred (infer-types.ts) and every transformer may be used.
 *   `mode: custom` — the same, plus the customizations below. (Customizations given with `auto`
 *   are honoured too rather than ignored.) `mode: off` — no featurization: numeric columns pass
 *   through as they are (missing values stay NaN, no scaling); any other column, or any
 *   customization, is an error.
 * - `column_name_and_types: {col: Numeric | Categorical | DateTime | Text | Ignore}` — replaces the
 *   inferred type. The cell values must allow it: Numeric needs numbers, DateTime datetimes, Text
 *   strings; Categorical takes strings or numbers. (The ONNX graph cannot parse strings into
 *   numbers or dates the way the MLTable reader does; set the column's type in the MLTable.)
 * - `transformer_params.imputer: [{fields, parameters: {strategy, fill_value}}]` — strategy mean,
 *   median, most_frequent or constant (numeric and datetime columns; a datetime fill_value is epoch
 *   ms or ISO 8601 text), most_frequent or constant (categorical columns: missing cells become that
 *   category instead of a category of their own). Text columns take no imputer.
 * - `transformer_params.hash_one_hot_encoder: [{fields, parameters: {number_of_bits}}]` — the
 *   width (2^bits) of the hashed bag of words of those text columns.
 * - `blocked_transformers` — each Azure name blocks the Tessera transformers listed in
 *   BLOCKABLE_TRANSFORMERS; names with nothing of Tessera's behind them (Tessera never uses such a
 *   transformer) are accepted and noted.
 * - `dataset_language`, `enable_dnn_featurization` — noted, no effect (no DNN featurizers).
 */
import type { z } from 'zod';
import type { tabularFeaturization } from '../../contracts/azureml/job-automl.js';
import { parseIsoDatetime } from '../../domain/mltable/values.js';
import { ValidationError } from '../../errors.js';
import type { ErrorDetail } from '../../errors.js';
import type { Table } from '../types.js';
import type { ImputeStrategy } from './numeric.js';
import { IMPUTE_STRATEGIES } from './numeric.js';

export type FeaturizationSpec = z.output<typeof tabularFeaturization>;

/** Tessera's transformers that `blocked_transformers` can switch off. */
export type BlockableTransformer = 'one-hot' | 'frequency' | 'target' | 'tfidf' | 'hashed-bag-of-words';

/**
 * Azure ML transformer name → the Tessera transformers it blocks. LabelEncoder (a category becomes
 * one number from a lookup table) blocks frequency encoding, the one such encoder besides target
 * encoding; CountVectorizer and HashOneHotEncoder block the hashed bag of words of text.
 */
export const BLOCKABLE_TRANSFORMERS: Readonly<Record<string, readonly BlockableTransformer[]>> = {
  OneHotEncoder: ['one-hot'],
  CatTargetEncoder: ['target'],
  LabelEncoder: ['frequency'],
  TfIdf: ['tfidf'],
  CountVectorizer: ['hashed-bag-of-words'],
  HashOneHotEncoder: ['hashed-bag-of-words'],
  TextTargetEncoder: [],
  WoETargetEncoder: [],
  WordEmbedding: [],
  NaiveBayes: [],
};

/** `column_name_and_types` values. */
export const COLUMN_TYPE_NAMES = ['Numeric', 'Categorical', 'DateTime', 'Text', 'Ignore'] as const;
export type ColumnPurpose = 'numeric' | 'categorical' | 'datetime' | 'text' | 'ignore';

const PURPOSE_OF: Record<string, ColumnPurpose> = {
  numeric: 'numeric',
  categorical: 'categorical',
  datetime: 'datetime',
  text: 'text',
  ignore: 'ignore',
};

/** An imputer of `transformer_params`; `fill` is the constant: a number, epoch ms, or a category. */
export interface ImputerSetting {
  strategy: ImputeStrategy;
  fill?: number | string;
}

export interface ResolvedFeaturization {
  mode: 'auto' | 'off' | 'custom';
  /** Column → declared purpose. */
  purposes: ReadonlyMap<string, ColumnPurpose>;
  imputers: ReadonlyMap<string, ImputerSetting>;
  /** Text column → number_of_bits of its hashed bag of words. */
  hashBits: ReadonlyMap<string, number>;
  blocked: ReadonlySet<BlockableTransformer>;
  /** Things said about the settings (no-op names, ignored keys) for the featurization plan. */
  notes: readonly string[];
}

const PREFIX = 'featurization';

/**
 * Checks `spec` against the table's columns; throws one ValidationError listing every problem
 * (each detail names the key path, what was expected and what was found).
 */
export function resolveFeaturization(spec: FeaturizationSpec | undefined, table: Table): ResolvedFeaturization {
  const problems: ErrorDetail[] = [];
  const notes: string[] = [];
  const mode = spec?.mode ?? 'auto';
  const columns = new Map(table.columns.map((c) => [c.name, c]));
  const known = [...columns.keys()].map((n) => `'${n}'`).join(', ');
  const checkColumn = (target: string, name: string): boolean => {
    if (columns.has(name)) return true;
    problems.push({ target, message: `There is no column '${name}' in the training data; its columns are ${known}.` });
    return false;
  };

  const customized =
    (spec?.blocked_transformers?.length ?? 0) > 0 ||
    Object.keys(spec?.column_name_and_types ?? {}).length > 0 ||
    Object.keys(spec?.transformer_params ?? {}).length > 0;
  if (mode === 'off' && customized) {
    problems.push({
      target: PREFIX,
      message:
        'featurization mode off takes no blocked_transformers, column_name_and_types or transformer_params; ' +
        'use mode: custom to customize featurization.',
    });
  }

  const purposes = new Map<string, ColumnPurpose>();
  for (const [name, type] of Object.entries(spec?.column_name_and_types ?? {})) {
    const target = `${PREFIX}.column_name_and_types.${name}`;
    const purpose = PURPOSE_OF[type.trim().toLowerCase()];
    if (purpose === undefined) {
      problems.push({ target, message: `Unknown column type '${type}'; use one of ${COLUMN_TYPE_NAMES.join(', ')}.` });
      continue;
    }
    if (!checkColumn(target, name)) continue;
    const kind = columns.get(name)?.kind;
    const fits =
      purpose === 'ignore' ||
      (purpose === 'numeric' && kind === 'numeric') ||
      (purpose === 'datetime' && kind === 'datetime') ||
      (purpose === 'text' && (kind === 'text' || kind === 'categorical')) ||
      (purpose === 'categorical' && kind !== 'datetime');
    if (!fits) {
      const values = kind === 'numeric' ? 'numbers' : kind === 'datetime' ? 'datetimes' : 'strings';
      problems.push({
        target,
        message:
          `Column '${name}' holds ${values}, which cannot be featurized as ${type}. ` +
          `Set the column's type when the MLTable is read (transformations: convert_column_types), or choose another type.`,
      });
      continue;
    }
    purposes.set(name, purpose);
  }

  const imputers = new Map<string, ImputerSetting>();
  const hashBits = new Map<string, number>();
  for (const [key, entries] of Object.entries(spec?.transformer_params ?? {})) {
    const transformer = key.trim().toLowerCase();
    if (transformer !== 'imputer' && transformer !== 'hash_one_hot_encoder') {
      problems.push({
        target: `${PREFIX}.transformer_params.${key}`,
        message: `Tessera takes parameters for imputer and hash_one_hot_encoder only; got '${key}'.`,
      });
      continue;
    }
    entries.forEach((entry, i) => {
      const base = `${PREFIX}.transformer_params.${key}[${i}]`;
      const params = entry.parameters ?? {};
      for (const field of entry.fields) {
        if (!checkColumn(`${base}.fields`, field)) continue;
        const kind = columns.get(field)?.kind;
        if (transformer === 'hash_one_hot_encoder') {
          const bits = params['number_of_bits'];
          if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 1 || bits > 20) {
            problems.push({
              target: `${base}.parameters.number_of_bits`,
              message: `number_of_bits must be an integer from 1 to 20; got ${JSON.stringify(bits ?? null)}.`,
            });
          } else hashBits.set(field, bits);
          continue;
        }
        const strategy = typeof params['strategy'] === 'string' ? params['strategy'].trim().toLowerCase() : 'mean';
        if (!(IMPUTE_STRATEGIES as readonly string[]).includes(strategy)) {
          problems.push({
            target: `${base}.parameters.strategy`,
            message: `Unknown imputer strategy '${String(params['strategy'])}'; use one of ${IMPUTE_STRATEGIES.join(', ')}.`,
          });
          continue;
        }
        const s = strategy as ImputeStrategy;
        const fillValue = params['fill_value'];
        const purpose = purposes.get(field);
        if (purpose === 'text' || (kind === 'text' && purpose === undefined)) {
          problems.push({ target: `${base}.fields`, message: `Text column '${field}' takes no imputer.` });
          continue;
        }
        const strings = kind === 'categorical' || kind === 'text';
        if ((strings || purpose === 'categorical') && (s === 'mean' || s === 'median')) {
          problems.push({
            target: `${base}.parameters.strategy`,
            message: `Categorical column '${field}' cannot be imputed with the ${s}; use most_frequent or constant.`,
          });
          continue;
        }
        if (s !== 'constant') {
          imputers.set(field, { strategy: s });
          continue;
        }
        let fill: number | string | undefined;
        if (strings) fill = fillValue === undefined || fillValue === null ? undefined : String(fillValue);
        else if (kind === 'datetime' && typeof fillValue === 'string') fill = parseIsoDatetime(fillValue)?.getTime();
        else if (typeof fillValue === 'number' && Number.isFinite(fillValue)) fill = fillValue;
        if (fill === undefined || fill === '') {
          const expected = strings ? 'a category' : kind === 'datetime' ? 'epoch ms or ISO 8601 text' : 'a number';
          problems.push({
            target: `${base}.parameters.fill_value`,
            message: `The constant imputer of column '${field}' needs a fill_value (${expected}); got ${JSON.stringify(fillValue ?? null)}.`,
          });
          continue;
        }
        imputers.set(field, { strategy: s, fill });
      }
    });
  }

  const blocked = new Set<BlockableTransformer>();
  const names = new Map(Object.keys(BLOCKABLE_TRANSFORMERS).map((n) => [n.toLowerCase(), n]));
  (spec?.blocked_transformers ?? []).forEach((raw, i) => {
    const name = names.get(raw.trim().toLowerCase());
    if (name === undefined) {
      problems.push({
        target: `${PREFIX}.blocked_transformers[${i}]`,
        message: `Unknown transformer '${raw}'; use one of ${Object.keys(BLOCKABLE_TRANSFORMERS).join(', ')}.`,
      });
      return;
    }
    const ours = BLOCKABLE_TRANSFORMERS[name] ?? [];
    if (ours.length === 0) notes.push(`blocked_transformers: ${name} is never used by Tessera; nothing to block.`);
    for (const t of ours) blocked.add(t);
  });

  if (spec?.dataset_language !== undefined)
    notes.push('dataset_language has no effect: text is tokenized the same in every language.');
  if (spec?.enable_dnn_featurization === true)
    notes.push('enable_dnn_featurization has no effect: Tessera has no DNN featurizers.');

  if (problems.length > 0) {
    const first = problems[0] as ErrorDetail;
    const more =
      problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new ValidationError(`${first.target}: ${first.message}${more}`, { target: first.target, details: problems });
  }
  return { mode, purposes, imputers, hashBits, blocked, notes };
}

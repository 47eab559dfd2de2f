/**
 * Text columns: a simple tokenizer, TF-IDF over a vocabulary fitted on the training rows, and a
 * hashed bag of words.
 *
 * Tokens are the maximal runs of letters and digits (Unicode) of the lowercased text. TF-IDF is
 * sklearn's default: raw counts × smoothed idf, ln((1 + n) / (1 + df)) + 1, each row scaled to
 * unit L2 norm; the vocabulary is the `maxFeatures` tokens in most training rows (at least
 * `minDf`), ties by text.
 *
 * ONNX: ai.onnx opset 17 has no operator that splits a string (StringSplit and RegexFullMatch came
 * in opset 20; Tokenizer is a com.microsoft contrib op), so a graph cannot turn a string [N,1] into
 * tokens. Text columns therefore enter the graph already tokenized, as a string [N,T] padded with
 * '' (onnx-io.ts builds it with `tokenize`), and the graph does the rest: TfIdfVectorizer (mode
 * TFIDF, the idf as float32 weights), then the L2 normalization. Lowercasing is part of `tokenize`
 * and not a StringNormalizer node, so that Unicode case mapping is JavaScript's in both places.
 * The hashed bag of words has no ONNX form (no hash operator); exporting it throws.
 */
import { AppError } from '../../errors.js';
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column } from '../types.js';
import type { ColumnTransform, FittedColumn } from './column-transform.js';
import { binary, floatScalar, int64s, one } from './onnx-ops.js';

export const DEFAULT_TFIDF_MAX_FEATURES = 256;
export const DEFAULT_TFIDF_MIN_DF = 2;
export const DEFAULT_HASH_BITS = 8;

const TOKEN = /[\p{L}\p{N}]+/gu;

/** The tokens of a text cell; null and '' have none. */
export function tokenize(text: string | null): string[] {
  if (text === null || text === '') return [];
  return text.toLowerCase().match(TOKEN) ?? [];
}

export interface TfIdfOptions {
  maxFeatures?: number;
  minDf?: number;
}

export function fitTfIdf(name: string, column: Column, options: TfIdfOptions = {}): FittedColumn {
  const maxFeatures = options.maxFeatures ?? DEFAULT_TFIDF_MAX_FEATURES;
  const minDf = options.minDf ?? DEFAULT_TFIDF_MIN_DF;
  const values = column.values as readonly (string | null)[];
  const df = new Map<string, number>();
  for (const v of values) for (const t of new Set(tokenize(v))) df.set(t, (df.get(t) ?? 0) + 1);
  const vocabulary = [...df.entries()]
    .filter(([, c]) => c >= minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxFeatures)
    .map(([t]) => t);
  const n = values.length;
  const idf = vocabulary.map((t) => Math.fround(Math.log((1 + n) / (1 + (df.get(t) ?? 0))) + 1));
  return { transform: new TfIdfTransform(name, column.kind, vocabulary, idf) };
}

export class TfIdfTransform implements ColumnTransform {
  readonly encoding = 'tokens';
  readonly transformer = 'TfIdf';
  readonly featureNames: readonly string[];
  private readonly index: Map<string, number>;

  constructor(
    readonly column: string,
    /** 'text' or 'categorical': strings either way. */
    readonly storage: Column['kind'],
    readonly vocabulary: readonly string[],
    /** float32 idf weights. */
    readonly idf: readonly number[],
  ) {
    this.index = new Map(vocabulary.map((t, i) => [t, i]));
    this.featureNames = vocabulary.map((t) => `${column}:tfidf:${t}`);
  }

  write(column: Column, out: Float64Array, stride: number, offset: number): void {
    const values = column.values as readonly (string | null)[];
    const v = this.vocabulary.length;
    for (let r = 0; r < values.length; r++) {
      const base = r * stride + offset;
      for (let j = 0; j < v; j++) out[base + j] = 0;
      for (const t of tokenize(values[r] ?? null)) {
        const j = this.index.get(t);
        if (j !== undefined) out[base + j]! += 1;
      }
      let ss = 0;
      for (let j = 0; j < v; j++) {
        const w = out[base + j]! * (this.idf[j] as number);
        out[base + j] = w;
        ss += w * w;
      }
      if (ss > 0) {
        const norm = Math.sqrt(ss);
        for (let j = 0; j < v; j++) out[base + j]! /= norm;
      }
    }
  }

  exportOnnx(g: OnnxGraphBuilder, input: string): string {
    const v = this.vocabulary.length;
    const tfidf = one(
      g.node('TfIdfVectorizer', [input], [g.fresh('tfidf')], {
        mode: { s: 'TFIDF' },
        min_gram_length: { i: 1 },
        max_gram_length: { i: 1 },
        max_skip_count: { i: 0 },
        ngram_counts: { ints: [0] },
        ngram_indexes: { ints: Array.from({ length: v }, (_, i) => i) },
        pool_strings: { strings: this.vocabulary },
        weights: { floats: this.idf },
      }),
    );
    const ss = one(
      g.node('ReduceSum', [binary(g, 'Mul', tfidf, tfidf), int64s(g, [1], 'axes')], [g.fresh('sumsq')], {
        keepdims: { i: 1 },
      }),
    );
    // A row without vocabulary tokens is all zeros: dividing by a tiny norm keeps it zero. Any
    // other row has norm ≥ 1 (idf ≥ 1), far above the floor.
    const norm = binary(g, 'Max', sqrt(g, ss), floatScalar(g, 1e-30));
    return binary(g, 'Div', tfidf, norm);
  }
}

function sqrt(g: OnnxGraphBuilder, x: string): string {
  return one(g.node('Sqrt', [x], [g.fresh('sqrt')]));
}

export interface HashedOptions {
  /** 2^bits buckets. */
  bits?: number;
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function fitHashedBagOfWords(name: string, column: Column, options: HashedOptions = {}): FittedColumn {
  const bits = options.bits ?? DEFAULT_HASH_BITS;
  if (!Number.isInteger(bits) || bits < 1 || bits > 20) {
    throw new RangeError(`number_of_bits must be an integer from 1 to 20; got ${bits}`);
  }
  return { transform: new HashedBagOfWordsTransform(name, column.kind, bits) };
}

/** Token counts in 2^bits buckets by FNV-1a hash; nothing to fit but the width. TypeScript only. */
export class HashedBagOfWordsTransform implements ColumnTransform {
  readonly encoding = 'tokens';
  readonly transformer = 'HashedBagOfWords';
  readonly featureNames: readonly string[];

  constructor(
    readonly column: string,
    readonly storage: Column['kind'],
    readonly bits: number,
  ) {
    this.featureNames = Array.from({ length: 2 ** bits }, (_, i) => `${column}:hash:${i}`);
  }

  write(column: Column, out: Float64Array, stride: number, offset: number): void {
    const values = column.values as readonly (string | null)[];
    const width = this.featureNames.length;
    const mask = width - 1;
    for (let r = 0; r < values.length; r++) {
      const base = r * stride + offset;
      for (let j = 0; j < width; j++) out[base + j] = 0;
      for (const t of tokenize(values[r] ?? null)) out[base + (fnv1a(t) & mask)]! += 1;
    }
  }

  exportOnnx(_g: OnnxGraphBuilder, _input: string): string {
    throw new AppError(
      'Unsupported',
      `The hashed bag of words of text column '${this.column}' has no ONNX form (ONNX has no hash operator). ` +
        `Unblock TfIdf, or set the column to Ignore, to get an exportable featurizer.`,
      { target: this.column },
    );
  }
}

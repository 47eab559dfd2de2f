/**
 * Rows as the MLTable reader yields them (shared/services/mltable-reader.ts: typed cells, null when
 * missing) → a Table of raw columns: int and float → numeric (NaN missing), boolean → numeric 1/0,
 * datetime → epoch ms, string → categorical (type inference may still make it text or an id).
 */
import type { ColumnSchema, Row } from '../../domain/mltable/values.js';
import type { Column, Table } from '../types.js';

export function tableFromRows(schema: readonly ColumnSchema[], rows: readonly Row[]): Table {
  const columns = schema.map((c): Column => {
    switch (c.type) {
      case 'int':
      case 'float':
      case 'boolean':
        return { kind: 'numeric', name: c.name, values: Float64Array.from(rows, (r) => toNumber(r[c.name])) };
      case 'datetime':
        return { kind: 'datetime', name: c.name, values: Float64Array.from(rows, (r) => toEpochMs(r[c.name])) };
      case 'string':
        return { kind: 'categorical', name: c.name, values: rows.map((r) => toText(r[c.name])) };
    }
  });
  return { rows: rows.length, columns };
}

function toNumber(v: Row[string] | undefined): number {
  if (v === null || v === undefined) return Number.NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  const t = v.trim();
  return t === '' ? Number.NaN : Number(t);
}

function toEpochMs(v: Row[string] | undefined): number {
  if (v === null || v === undefined) return Number.NaN;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  return typeof v === 'string' && v.trim() !== '' ? Date.parse(v) : Number.NaN;
}

function toText(v: Row[string] | undefined): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : String(v);
}

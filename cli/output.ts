import { stringify } from 'yaml';

export type OutputFormat = 'json' | 'yaml' | 'table';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return 'json';
  if (value === 'json' || value === 'yaml' || value === 'table') return value;
  throw new TypeError(`--output must be json, yaml or table, got '${value}'`);
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(cell).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain text table: one row per item, the given columns, widths fitted to the content. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const texts = rows.map((r) => columns.map((c) => cell(r[c]).replace(/\s+/g, ' ')));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...texts.map((t) => (t[i] ?? '').length))));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const w = widths[i] ?? 0;
        return v.length > w ? `${v.slice(0, w - 1)}…` : v.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return (
    [line(columns.map((c) => c.toUpperCase())), line(widths.map((w) => '-'.repeat(w))), ...texts.map(line)].join('\n') +
    '\n'
  );
}

/** Renders a result: JSON (default), YAML, or a table of the given columns (lists) or fields (one item). */
export function render(value: unknown, format: OutputFormat, columns: readonly string[]): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  if (format === 'yaml') return stringify(value);
  if (value !== null && typeof value === 'object' && Array.isArray((value as { value?: unknown }).value)) {
    const list = value as { value: Record<string, unknown>[]; continuation?: string };
    const more = list.continuation ? `(more: --continuation ${list.continuation})\n` : '';
    return table(list.value, columns) + more;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([field, v]) => ({ field, value: v }));
    return table(entries, ['field', 'value']);
  }
  return `${cell(value)}\n`;
}

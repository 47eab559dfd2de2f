/**
 * Scalers of numeric features: x ↦ (x − offset) · scale, which is exactly ai.onnx.ml Scaler. The
 * fitted offset and scale are rounded to float32 at fit time because Scaler's attributes are
 * float32: TypeScript and the graph then use the same numbers.
 */
import { mean, quantile, std } from './stats.js';

export const SCALERS = ['none', 'standard', 'minmax', 'robust'] as const;
export type ScalerKind = (typeof SCALERS)[number];

export interface FittedScaler {
  kind: Exclude<ScalerKind, 'none'>;
  /** float32 values. */
  offset: number;
  scale: number;
}

/**
 * standard: (x − mean) / std (population); minmax: (x − min) / (max − min), into [0, 1] on the
 * training rows; robust: (x − median) / IQR (25th to 75th percentile). A zero spread scales by 1.
 * `sorted` holds the finite training values (after imputation), ascending.
 */
export function fitScaler(sorted: Float64Array, kind: ScalerKind): FittedScaler | undefined {
  if (kind === 'none' || sorted.length === 0) return undefined;
  let offset: number;
  let spread: number;
  switch (kind) {
    case 'standard':
      offset = mean(sorted);
      spread = std(sorted);
      break;
    case 'minmax':
      offset = sorted[0] as number;
      spread = (sorted[sorted.length - 1] as number) - offset;
      break;
    case 'robust':
      offset = quantile(sorted, 0.5);
      spread = quantile(sorted, 0.75) - quantile(sorted, 0.25);
      break;
  }
  const scale = spread > 0 && Number.isFinite(spread) ? 1 / spread : 1;
  return { kind, offset: Math.fround(offset), scale: Math.fround(scale) };
}

export function applyScaler(s: FittedScaler, x: number): number {
  return (x - s.offset) * s.scale;
}

import { z } from 'zod';

/**
 * The stored documents of the Cosmos DB tracking store (MLflow experiments, runs and metric
 * history), the containers that hold them, and the sort orders its queries need composite indexes
 * for. Maps keyed by user-chosen names (params, tags, metrics) are JSON objects in storage, so that
 * a query can filter and order on `c["params"]["lr"]`; they are read back into Maps.
 */

/** Experiments, their name reservations and each workspace's id counter; partition key: the workspace. */
export const TRACKING_EXPERIMENTS_CONTAINER = 'trackingExperiments';
/** One document per run with its params, tags and latest metrics; partition key: the workspace. */
export const TRACKING_RUNS_CONTAINER = 'trackingRuns';
/** Metric history in append chunks; partition key: `<workspace>:<run id>`. */
export const TRACKING_METRICS_CONTAINER = 'trackingMetricHistory';

/** The partition of a run's metric history: one per run, so no workspace outgrows a logical partition. */
export function metricHistoryPartition(ws: string, runId: string): string {
  return `${ws}:${runId}`;
}

type Ordering = { path: string; direction?: 'asc' | 'desc' }[];

const DESC = 'desc' as const;
const bothWays = (path: string, tail: Ordering): Ordering[] => [
  [{ path }, ...tail],
  [{ path, direction: DESC }, ...tail],
];

/**
 * The ORDER BY lists of the tracking store with two or more properties (each is followed by `id`
 * ascending, as for every container). Runs: the default order (start time newest first, then run
 * id) and an attribute then the default order. Experiments: the default order (creation time newest
 * first, then the numeric id `seq`) and an attribute then that. Orders on a metric, param or tag
 * cannot have a composite index (their paths are user data): they use one ORDER BY on that path
 * alone, which the default range index serves.
 */
export const TRACKING_COSMOS_ORDERINGS: Readonly<Record<string, Ordering[]>> = {
  [TRACKING_EXPERIMENTS_CONTAINER]: [
    ...bothWays('creationTime', [{ path: 'seq' }]),
    ...bothWays('name', [{ path: 'creationTime', direction: DESC }, { path: 'seq' }]),
    ...bothWays('lastUpdateTime', [{ path: 'creationTime', direction: DESC }, { path: 'seq' }]),
  ],
  [TRACKING_RUNS_CONTAINER]: [
    ...bothWays('startTime', []),
    ...bothWays('endTime', [{ path: 'startTime', direction: DESC }]),
    ...bothWays('status', [{ path: 'startTime', direction: DESC }]),
    ...bothWays('runName', [{ path: 'startTime', direction: DESC }]),
  ],
};

/**
 * A JSON object read as a Map. Unlike z.record, it keeps every own key, `__proto__` included
 * (JSON.parse makes it an own property; a plain object assignment would not).
 */
function mapOf<T extends z.ZodType>(value: T) {
  return z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'an object')
    .transform((obj, ctx) => {
      const out = new Map<string, z.output<T>>();
      for (const [k, v] of Object.entries(obj)) {
        const parsed = value.safeParse(v);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: `invalid value for key ${JSON.stringify(k)}`, path: [k] });
          return z.NEVER;
        }
        out.set(k, parsed.data);
      }
      return out;
    });
}

/** A Map written as a JSON object with exactly its keys (Object.fromEntries defines own properties). */
export function mapToObject<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  return Object.fromEntries(map);
}

const lifecycleStage = z.enum(['active', 'deleted']);
const epochMs = z.number().int();

/**
 * A metric value as JSON can hold it: `v` is the number, or null for NaN; infinities are stored as
 * ±Number.MAX_VALUE so that they still compare and sort beyond every finite value. `x` keeps the
 * exact non-finite value.
 */
export const storedMetricValueSchema = z.object({
  v: z.number().nullable(),
  x: z.enum(['NaN', 'Infinity', '-Infinity']).optional(),
});

export const experimentDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('mlflowExperiment'),
  schemaVersion: z.literal(1),
  /** The experiment id as a number, for ordering by id. */
  seq: z.number().int().nonnegative(),
  name: z.string(),
  artifactLocation: z.string(),
  lifecycleStage,
  creationTime: epochMs,
  lastUpdateTime: epochMs,
  tags: mapOf(z.string()),
});
export type ExperimentDocument = z.output<typeof experimentDocumentSchema>;

/** Reserves an experiment name in a workspace (its id is derived from the name). */
export const experimentNameDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('mlflowExperimentName'),
  schemaVersion: z.literal(1),
  name: z.string(),
  experimentId: z.string(),
});
export type ExperimentNameDocument = z.output<typeof experimentNameDocumentSchema>;

/** The last experiment id given out in a workspace. */
export const experimentCounterDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('mlflowExperimentCounter'),
  schemaVersion: z.literal(1),
  last: z.number().int().nonnegative(),
});

/** A run's latest value of one metric, and how many points of it were logged (its history positions). */
export const latestMetricSchema = storedMetricValueSchema.extend({
  t: epochMs,
  s: z.number().int(),
  n: z.number().int().nonnegative(),
});

export const runDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('mlflowRun'),
  schemaVersion: z.literal(1),
  experimentId: z.string(),
  runName: z.string(),
  userId: z.string(),
  status: z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']),
  startTime: epochMs,
  /** Absent while the run has not ended. */
  endTime: epochMs.optional(),
  artifactUri: z.string(),
  lifecycleStage,
  params: mapOf(z.string()),
  tags: mapOf(z.string()),
  metrics: mapOf(latestMetricSchema),
});
export type RunDocument = z.output<typeof runDocumentSchema>;

/**
 * Points of one metric of one run logged by one batch, at history positions `first`..`last`
 * (numbered from 1 per run and key, in logging order).
 */
export const metricChunkDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('mlflowMetricChunk'),
  schemaVersion: z.literal(1),
  runId: z.string(),
  key: z.string(),
  first: z.number().int().positive(),
  last: z.number().int().positive(),
  points: z.array(storedMetricValueSchema.extend({ t: epochMs, s: z.number().int() })),
});
export type MetricChunkDocument = z.output<typeof metricChunkDocumentSchema>;

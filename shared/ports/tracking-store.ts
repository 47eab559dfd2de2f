import type { FilterClause, OrderClause } from '../domain/mlflow-filter.js';

/**
 * Experiment-tracking storage (MLflow's experiments, runs, params, tags and metric history), per
 * workspace. Validation and MLflow semantics live in the tracking service; a store persists,
 * enforces uniqueness and param immutability atomically, and answers searches.
 */

export type LifecycleStage = 'active' | 'deleted';
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface KeyValue {
  key: string;
  value: string;
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface ExperimentRecord {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: KeyValue[];
}

export interface RunRecord {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | undefined;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface RunInsert {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  startTime: number;
  artifactUri: string;
  tags: KeyValue[];
}

export interface RunUpdate {
  status?: RunStatus;
  endTime?: number;
  runName?: string;
}

export interface RunSearch {
  experimentIds: string[];
  filter: FilterClause[];
  orderBy: OrderClause[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
}

export interface ExperimentSearch {
  filter: FilterClause[];
  orderBy: OrderClause[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  /** Whether more items follow this page. */
  more: boolean;
}

export interface HistoryPage {
  metrics: Metric[];
  /** Opaque position after the last returned point, when more follow. */
  next: number | undefined;
}

export interface TrackingStore {
  /** Creates the workspace's "Default" experiment (id "0") if missing. */
  ensureDefaultExperiment(ws: string, artifactLocation: string, now: number): Promise<void>;
  /** Throws ConflictError when an experiment of that name exists in the workspace. */
  createExperiment(
    ws: string,
    name: string,
    artifactLocation: (id: string) => string,
    tags: KeyValue[],
    now: number,
  ): Promise<string>;
  getExperiment(ws: string, experimentId: string): Promise<ExperimentRecord | undefined>;
  getExperimentByName(ws: string, name: string): Promise<ExperimentRecord | undefined>;
  searchExperiments(ws: string, search: ExperimentSearch): Promise<Page<ExperimentRecord>>;
  /** Returns false when the experiment does not exist; ConflictError on a duplicate name. */
  updateExperiment(
    ws: string,
    experimentId: string,
    change: { name?: string; lifecycleStage?: LifecycleStage },
    now: number,
  ): Promise<boolean>;
  setExperimentTag(ws: string, experimentId: string, tag: KeyValue, now: number): Promise<void>;

  createRun(ws: string, run: RunInsert): Promise<void>;
  getRun(ws: string, runId: string): Promise<RunRecord | undefined>;
  updateRun(ws: string, runId: string, update: RunUpdate & { lifecycleStage?: LifecycleStage }): Promise<void>;
  /**
   * Writes metrics (history and latest), params and tags in one transaction. A param already
   * logged with a different value fails the whole batch with a ValidationError.
   */
  logBatch(
    ws: string,
    runId: string,
    batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] },
  ): Promise<void>;
  deleteTag(ws: string, runId: string, key: string): Promise<boolean>;
  searchRuns(ws: string, search: RunSearch): Promise<Page<RunRecord>>;
  /** One metric's history in logging order, after position `after` (exclusive). */
  metricHistory(ws: string, runId: string, key: string, after: number, limit: number): Promise<HistoryPage>;
  close(): Promise<void>;
}

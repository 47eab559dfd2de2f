import { ValidationError } from '../errors.js';
import { hasControlCharacter } from './artifact-paths.js';
import { formatDatastoreUri } from './data-uri.js';

/**
 * Where MLflow artifacts live in Tessera (pure). Runs and logged models write through the proxied
 * artifact API (`mlflow-artifacts:` URIs); the bytes are kept in the workspace's
 * `workspaceartifactstore` datastore under `mlflow/experiments/...`, so jobs and the data plane can
 * address the same objects as `azureml://datastores/workspaceartifactstore/paths/mlflow/...`.
 *
 *   mlflow-artifacts:/workspaces/<ws>/experiments/<exp>/<run>/artifacts/<file>
 *     → datastore path mlflow/experiments/<exp>/<run>/artifacts/<file>
 *   mlflow-artifacts:/workspaces/<ws>/experiments/<exp>/models/<model id>/artifacts/<file>
 *     → datastore path mlflow/experiments/<exp>/models/<model id>/artifacts/<file>
 */

/** The built-in datastore of every workspace that holds MLflow artifacts. */
export const MLFLOW_ARTIFACT_DATASTORE = 'workspaceartifactstore';

/** The folder of the datastore under which experiments keep their artifacts. */
const DATASTORE_ROOT = 'mlflow/experiments';
const SCHEME = 'mlflow-artifacts:';
const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENT_BYTES = 255;

/** Datastore path of a run's artifact folder, with a trailing '/': `mlflow/experiments/<exp>/<run>/artifacts/`. */
export function runArtifactsPath(experimentId: string, runId: string): string {
  return `${DATASTORE_ROOT}/${idSegment(experimentId, 'experiment_id')}/${idSegment(runId, 'run_id')}/artifacts/`;
}

/** The same folder as an azureml:// URI of the workspace artifact store (trailing '/'). */
export function runArtifactsUri(experimentId: string, runId: string): string {
  return formatDatastoreUri(MLFLOW_ARTIFACT_DATASTORE, runArtifactsPath(experimentId, runId));
}

/** Datastore path of a logged model's artifact folder, with a trailing '/'. */
export function loggedModelArtifactsPath(experimentId: string, modelId: string): string {
  return `${DATASTORE_ROOT}/${idSegment(experimentId, 'experiment_id')}/models/${idSegment(modelId, 'model_id')}/artifacts/`;
}

/** The artifact location MLflow clients are given for a logged model (no trailing '/', as MLflow writes it). */
export function loggedModelArtifactLocation(workspace: string, experimentId: string, modelId: string): string {
  return (
    `${SCHEME}/workspaces/${idSegment(workspace, 'workspace')}/experiments/` +
    `${idSegment(experimentId, 'experiment_id')}/models/${idSegment(modelId, 'model_id')}/artifacts`
  );
}

/**
 * Maps a proxied artifact path as MLflow clients send it (the path of an `mlflow-artifacts:` URI
 * without its scheme and leading '/', e.g. `workspaces/<ws>/experiments/1/<run>/artifacts/model.pkl`)
 * to its datastore path (`mlflow/experiments/1/<run>/artifacts/model.pkl`).
 *
 * Refuses, with a ValidationError naming the path: a path of another workspace or outside
 * `workspaces/<ws>/experiments`, '..' or '.' segments, an absolute path, an empty segment ('a//b',
 * a leading or trailing '/'), a backslash, NUL or another control character.
 */
export function datastorePathOfProxiedArtifact(workspace: string, proxiedPath: string): string {
  const bad = (why: string): never => {
    throw new ValidationError(`Invalid MLflow artifact path ${JSON.stringify(proxiedPath)}: ${why}.`, {
      target: 'path',
    });
  };
  if (typeof proxiedPath !== 'string') return bad('expected a string');
  if (proxiedPath === '') bad('it is empty');
  if (proxiedPath.length > MAX_PATH_LENGTH) bad(`it is longer than ${MAX_PATH_LENGTH} characters`);
  if (hasControlCharacter(proxiedPath)) bad('it contains NUL or another control character');
  if (proxiedPath.includes('\\')) bad("it contains a backslash; use '/' between folders");
  if (proxiedPath.startsWith('/') || /^[A-Za-z]:/.test(proxiedPath)) {
    bad(`absolute paths are not allowed; give the path relative to the artifact root (workspaces/${workspace}/...)`);
  }
  const segments = proxiedPath.split('/');
  if (segments.some((s) => s === '')) bad("it has an empty segment ('//', or a '/' at the end)");
  if (segments.some((s) => s === '..' || s === '.')) bad("'.' and '..' segments are not allowed");
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    bad(`a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  const [root, ws, experiments, ...rest] = segments;
  if (root !== 'workspaces' || ws === undefined || experiments !== 'experiments') {
    bad(`MLflow artifacts of this workspace live under workspaces/${workspace}/experiments/`);
  }
  if (ws !== workspace) bad(`it belongs to workspace '${ws}', not to '${workspace}'`);
  return rest.length === 0 ? DATASTORE_ROOT : `${DATASTORE_ROOT}/${rest.join('/')}`;
}

/**
 * The proxied path of an `mlflow-artifacts:` URI (`mlflow-artifacts:/workspaces/ws/...` →
 * `workspaces/ws/...`, any trailing '/' dropped), or undefined for a URI of another scheme or host
 * (an experiment created with its own artifact_location), which this server does not serve.
 */
export function proxiedPathOfArtifactUri(uri: string): string | undefined {
  if (!uri.startsWith(SCHEME)) return undefined;
  const rest = uri.slice(SCHEME.length);
  // mlflow-artifacts://host/... names another server; only the host-less form is ours.
  if (rest.startsWith('//') || !rest.startsWith('/')) return undefined;
  return rest.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Checks a path relative to an artifact root as clients pass it (`artifacts/list?path=`): '' is
 * the root; one trailing '/' is ignored. Refuses what `datastorePathOfProxiedArtifact` refuses.
 */
export function relativeArtifactPath(path: string | undefined): string {
  if (path === undefined) return '';
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  if (path === '' || trimmed === '') return '';
  const bad = (why: string): never => {
    throw new ValidationError(`Invalid artifact path ${JSON.stringify(path)}: ${why}.`, { target: 'path' });
  };
  if (hasControlCharacter(trimmed)) bad('it contains NUL or another control character');
  if (trimmed.includes('\\')) bad("it contains a backslash; use '/' between folders");
  if (trimmed.startsWith('/') || /^[A-Za-z]:/.test(trimmed)) bad('give a path relative to the artifact root');
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '')) bad("it has an empty segment ('//')");
  if (segments.some((s) => s === '..' || s === '.')) bad("'.' and '..' segments are not allowed");
  return trimmed;
}

/** An id used as one path segment: refused unless it is a plain name (no '/', '..', control characters). */
function idSegment(value: string, what: string): string {
  if (
    typeof value !== 'string' ||
    value === '' ||
    value === '.' ||
    value === '..' ||
    /[/\\]/.test(value) ||
    hasControlCharacter(value) ||
    Buffer.byteLength(value) > MAX_SEGMENT_BYTES
  ) {
    throw new ValidationError(`Invalid ${what} ${JSON.stringify(value)}: it cannot be used as a path segment.`, {
      target: what,
    });
  }
  return value;
}

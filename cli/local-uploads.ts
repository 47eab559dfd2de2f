import { stat } from 'node:fs/promises';
import type { LocalPathRef } from '../shared/domain/azureml/spec-loader.js';
import { SpecError } from '../shared/domain/azureml/spec-loader.js';
import { uploadLocalPath } from '../shared/services/upload-service.js';
import type { UploadResult } from '../shared/services/upload-service.js';
import { createHttpUploadTarget } from './sdk/upload-target.js';

/**
 * Local files a spec names, sent to the workspace's default datastore the way `az ml` does before
 * it registers an asset or submits a job: content-addressed (unchanged files are not sent again),
 * and every path checked before anything is sent.
 */

/** Where uploads go: the host and workspace the CLI talks to. */
export interface UploadContext {
  endpoint: string;
  token: string | undefined;
  workspace: string;
  fetch?: typeof fetch;
}

/** Progress is drawn only for uploads at least this large. */
const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

/** Sets `keyPath` (dotted, list items by index) in a spec to `value`. */
export function setAtPath(target: Record<string, unknown>, keyPath: string, value: unknown): void {
  const parts = keyPath.split('.');
  let node: unknown = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string;
    node = Array.isArray(node) ? node[Number(key)] : (node as Record<string, unknown>)[key];
    if (node === null || typeof node !== 'object')
      throw new Error(`internal: no object at ${parts.slice(0, i + 1).join('.')}`);
  }
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(node)) node[Number(last)] = value;
  else (node as Record<string, unknown>)[last] = value;
}

/** A one-line progress bar for `label`, drawn on `draw` for large uploads only. */
export function progressBar(draw: (text: string) => void, label: string): (done: number, total: number) => void {
  let lastPercent = -1;
  return (done, total) => {
    if (total < PROGRESS_MIN_BYTES) return;
    const percent = Math.floor((done / total) * 100);
    if (percent === lastPercent) return;
    lastPercent = percent;
    const width = 30;
    const filled = Math.round((percent / 100) * width);
    const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
    draw(
      `\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${percent}% ${mb(done)}/${mb(total)} MB${percent === 100 ? '\n' : ''}`,
    );
  };
}

/** Throws a SpecError naming `file` and the key of the first local path that does not exist. */
export async function checkLocalPaths(
  file: string,
  refs: readonly LocalPathRef[],
  hint = "fix the path in the spec (relative paths start from the YAML file's folder) or create it",
): Promise<void> {
  for (const ref of refs) {
    try {
      await stat(ref.path);
    } catch {
      throw new SpecError({
        file,
        keyPath: ref.keyPath,
        problem: `the local path ${ref.path} does not exist`,
        hint,
      });
    }
  }
}

/** Uploads one local file or folder; the result's `uri` is its `azureml://datastores/...` URI. */
export function uploadOne(
  ctx: UploadContext,
  localPath: string,
  label: string,
  progress?: (text: string) => void,
): Promise<UploadResult> {
  const target = createHttpUploadTarget({
    endpoint: ctx.endpoint,
    workspace: ctx.workspace,
    ...(ctx.token === undefined ? {} : { token: ctx.token }),
    ...(ctx.fetch === undefined ? {} : { fetch: ctx.fetch }),
  });
  return uploadLocalPath({
    localPath,
    target,
    ...(progress ? { onProgress: progressBar(progress, `uploading ${label}`) } : {}),
  });
}

/**
 * Checks every local path of a loaded spec, then uploads them one by one and returns a copy of the
 * spec with each replaced by its upload's URI. Nothing is sent when a path is missing.
 */
export async function uploadSpecLocalPaths(
  ctx: UploadContext,
  loaded: { file: string; spec: Record<string, unknown>; localPaths: readonly LocalPathRef[] },
  progress?: (text: string) => void,
): Promise<Record<string, unknown>> {
  const spec = structuredClone(loaded.spec);
  // Check every local path before sending anything, so a typo never leaves a half-done upload.
  await checkLocalPaths(loaded.file, loaded.localPaths);
  for (const ref of loaded.localPaths) {
    const result = await uploadOne(ctx, ref.path, ref.keyPath, progress);
    setAtPath(spec, ref.keyPath, result.uri);
  }
  return spec;
}

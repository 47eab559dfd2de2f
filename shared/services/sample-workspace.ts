import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../errors.js';
import type { DatastoreResolver } from '../ports/datastore-resolver.js';
import type { AssetService } from './asset-service.js';
import { loadSpecFile } from './spec-file.js';
import { uploadLocalPath } from './upload-service.js';

export interface SeedSampleOptions {
  services: { assets: AssetService; datastores: DatastoreResolver };
  /** The app's examples/ folder. */
  examplesDir: string;
  workspace?: string;
}

/**
 * Registers the sample data asset (examples/data/iris.yml, an MLTable) in the default workspace
 * the first time the embedded host starts, uploading it exactly as `tessera data create` does.
 * Returns the asset id, or undefined when it already exists or the examples are not shipped.
 */
export async function seedSampleWorkspace({
  services,
  examplesDir,
  workspace = 'default',
}: SeedSampleOptions): Promise<string | undefined> {
  const file = join(examplesDir, 'data', 'iris.yml');
  if (!existsSync(file)) return undefined;
  const loaded = await loadSpecFile(file, { expectedKind: 'data' });
  const name = String(loaded.spec.name);
  try {
    await services.assets.resolveLabel(workspace, 'data', name);
    return undefined;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const spec = structuredClone(loaded.spec);
  for (const ref of loaded.localPaths) {
    const uploaded = await uploadLocalPath({ localPath: ref.path, datastores: services.datastores, workspace });
    spec[ref.keyPath] = uploaded.uri;
  }
  const version = String(spec.version ?? '1');
  await services.assets.putVersion(workspace, 'data', name, version, spec, { principal: 'tessera-host' });
  return `azureml:${name}:${version}`;
}

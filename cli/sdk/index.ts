/**
 * The Tessera TypeScript SDK: `import { MLClient } from 'tessera'`. Operation groups mirror the
 * Azure ML Python SDK v2 (`ml.data.createOrUpdate(...)`, `ml.models.get(name, { version })`).
 */
export { MLClient, MLClientError } from './ml-client.js';
export type { Health, MLClientOptions, PageOptions } from './ml-client.js';
export {
  DataOperations,
  DatastoreOperations,
  ModelOperations,
  ResourceOperations,
  VersionedAssetOperations,
} from './asset-operations.js';
export type {
  AssetListOptions,
  DataPreview,
  ModelDownload,
  SpecWithName,
  VersionSelector,
} from './asset-operations.js';
export { JobOperations } from './job-operations.js';
export type {
  JobDownload,
  JobDownloadOptions,
  JobListOptions,
  JobSpecInput,
  JobStreamOptions,
} from './job-operations.js';
export { OnlineDeploymentOperations, OnlineEndpointOperations } from './online-operations.js';
export type { InvokeOptions, InvokeResult, OnlineSpecInput, WaitOptions } from './online-operations.js';
export type {
  EndpointKeys,
  EndpointToken,
  OnlineDeployment,
  OnlineDeploymentList,
  OnlineEndpoint,
  OnlineEndpointList,
} from '../../shared/contracts/endpoint.js';
export { DEFAULT_ENDPOINT, resolveCredentials } from './credentials.js';
export type { ResolveCredentialsOptions, ResolvedCredentials } from './credentials.js';
export { createHttpUploadTarget } from './upload-target.js';
export { uploadLocalPath } from '../../shared/services/upload-service.js';
export type { UploadResult } from '../../shared/services/upload-service.js';
export { loadSpecFile } from '../../shared/services/spec-file.js';
export type { Asset, AssetList } from '../../shared/contracts/assets.js';
export type { Job, JobError, JobList, JobOutputView, JobStatus, StatusChange } from '../../shared/contracts/job.js';
export type { WorkspacePutBody, WorkspaceView, WorkspaceViewList } from '../../shared/contracts/workspace.js';
export type {
  AssetKind,
  DataSpec,
  DatastoreSpec,
  ModelSpec,
  EnvironmentSpec,
  ComponentSpec,
  ComputeSpec,
} from '../../shared/contracts/azureml/index.js';

import { z } from 'zod';
import { byShape, byType, ciEnum, isRecord, properties, resourceName, tags } from './common.js';

/**
 * Datastore specs (`az ml datastore create`): a connection to an Azure storage container. The
 * secret-bearing part is `credentials` (account key, SAS token, or service principal); without it
 * the datastore is identity-based, and jobs reach the storage with their own identity. The assets
 * service strips `credentials` from the spec and stores them encrypted.
 */

/** Storage account key credentials. */
export const accountKeyCredentials = z.strictObject({ account_key: z.string().min(1) });
/** Shared access signature credentials. */
export const sasCredentials = z.strictObject({ sas_token: z.string().min(1) });
/** Service principal credentials (ADLS Gen1/Gen2). */
export const servicePrincipalCredentials = z.strictObject({
  tenant_id: z.string().min(1),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  authority_url: z.string().optional(),
  resource_url: z.string().optional(),
});
/** Service principal with a certificate instead of a secret. */
export const certificateCredentials = z.strictObject({
  tenant_id: z.string().min(1),
  client_id: z.string().min(1),
  certificate: z.string().min(1),
  thumbprint: z.string().min(1),
  authority_url: z.string().optional(),
  resource_url: z.string().optional(),
});

const keyOrSas = byShape([accountKeyCredentials, sasCredentials], (v) =>
  isRecord(v) && 'sas_token' in v ? sasCredentials : accountKeyCredentials,
);
const principal = byShape([servicePrincipalCredentials, certificateCredentials], (v) =>
  isRecord(v) && ('certificate' in v || 'thumbprint' in v) ? certificateCredentials : servicePrincipalCredentials,
);

const common = {
  name: resourceName,
  description: z.string().optional(),
  tags: tags.optional(),
  properties: properties.optional(),
};

/** Who accesses the storage for data preview in the studio: the workspace identity or none. */
const serviceDataAccessAuthIdentity = ciEnum([
  'none',
  'workspace_system_assigned_identity',
  'workspace_user_assigned_identity',
]).optional();

export const azureBlobDatastore = z.strictObject({
  ...common,
  type: z.literal('azure_blob'),
  account_name: z.string().min(1),
  container_name: z.string().min(1),
  endpoint: z.string().optional(),
  protocol: ciEnum(['https', 'wasbs']).optional(),
  credentials: keyOrSas.optional(),
  service_data_access_auth_identity: serviceDataAccessAuthIdentity,
});

export const azureFileDatastore = z.strictObject({
  ...common,
  type: z.literal('azure_file'),
  account_name: z.string().min(1),
  file_share_name: z.string().min(1),
  endpoint: z.string().optional(),
  protocol: ciEnum(['https', 'wasbs']).optional(),
  credentials: keyOrSas.optional(),
  service_data_access_auth_identity: serviceDataAccessAuthIdentity,
});

export const azureDataLakeGen1Datastore = z.strictObject({
  ...common,
  type: z.literal('azure_data_lake_gen1'),
  store_name: z.string().min(1),
  credentials: principal.optional(),
  service_data_access_auth_identity: serviceDataAccessAuthIdentity,
});

export const azureDataLakeGen2Datastore = z.strictObject({
  ...common,
  type: z.literal('azure_data_lake_gen2'),
  account_name: z.string().min(1),
  filesystem: z.string().min(1),
  endpoint: z.string().optional(),
  protocol: ciEnum(['https', 'abfss']).optional(),
  credentials: principal.optional(),
  service_data_access_auth_identity: serviceDataAccessAuthIdentity,
});

/** A datastore of any of the four storage kinds, chosen by `type`. */
export const datastoreSpecSchema = byType(
  {
    azure_blob: azureBlobDatastore,
    azure_file: azureFileDatastore,
    azure_data_lake_gen1: azureDataLakeGen1Datastore,
    azure_data_lake_gen2: azureDataLakeGen2Datastore,
  },
  {
    unsupported: {
      one_lake: 'OneLake datastores are not supported by Tessera yet',
      hdfs: 'HDFS datastores are not supported by Tessera yet',
    },
  },
);
export type DatastoreSpec = z.output<typeof datastoreSpecSchema>;
export type DatastoreCredentials = NonNullable<DatastoreSpec['credentials']>;

import { createRequire } from 'node:module';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

/**
 * An in-process Azurite Blob service for contract tests: azurite's BlobServer with in-memory
 * persistence on 127.0.0.1 and an ephemeral port, the well-known devstoreaccount1 key, loose mode
 * and no API-version check (the SDK may be newer than this Azurite). `stop()` closes it and
 * drops its data.
 */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

// azurite ships no type declarations; these are the few members used here.
interface AzuriteBlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerCtor = new (config: unknown) => AzuriteBlobServer;
type BlobConfigurationCtor = new (...args: unknown[]) => unknown;
type ChunkStoreCtor = new (sizeLimit?: number) => unknown;

export interface Azurite {
  /** e.g. http://127.0.0.1:41234/devstoreaccount1 */
  blobEndpoint: string;
  connectionString: string;
  credential: StorageSharedKeyCredential;
  service(): BlobServiceClient;
  stop(): Promise<void>;
}

export async function startAzurite(): Promise<Azurite> {
  const require = createRequire(import.meta.url);
  const BlobServer = (require('azurite/dist/src/blob/BlobServer.js') as { default: BlobServerCtor }).default;
  const BlobConfiguration = (
    require('azurite/dist/src/blob/BlobConfiguration.js') as { default: BlobConfigurationCtor }
  ).default;
  const { MemoryExtentChunkStore } = require('azurite/dist/src/common/persistence/MemoryExtentStore.js') as {
    MemoryExtentChunkStore: ChunkStoreCtor;
  };
  // Positional BlobConfiguration arguments of azurite 3.35 (see dist/src/blob/BlobConfiguration.js).
  const config = new BlobConfiguration(
    '127.0.0.1', // host
    0, // port: ephemeral
    undefined, // keepAliveTimeout
    'azurite-blob-metadata', // metadataDBPath (unused in memory mode)
    'azurite-blob-extents', // extentDBPath (unused in memory mode)
    [], // persistencePathArray
    false, // enableAccessLog
    undefined, // accessLogWriteStream
    false, // enableDebugLog
    undefined, // debugLogFilePath
    true, // loose
    true, // skipApiVersionCheck
    '', // cert
    '', // key
    '', // pwd
    undefined, // oauth
    false, // disableProductStyleUrl
    true, // isMemoryPersistence
    new MemoryExtentChunkStore(1024 * 1024 * 1024), // a private in-memory store, 1 GiB at most
  );
  const server = new BlobServer(config);
  await server.start();
  const blobEndpoint = `${server.getHttpServerAddress()}/${AZURITE_ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  return {
    blobEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`,
    credential,
    service: () => new BlobServiceClient(blobEndpoint, credential),
    async stop() {
      await server.close();
      await server.clean();
    },
  };
}

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { parseSpec } from '../contracts/azureml/index.js';
import type { OnlineDeploymentSpec, OnlineEndpointSpec } from '../contracts/azureml/index.js';
import { isKubernetesEndpointSpec } from '../contracts/azureml/online.js';
import type { DeploymentInlineModel } from '../contracts/azureml/online.js';
import {
  AUTH_MODES,
  DEFAULT_REQUEST_SETTINGS,
  ENDPOINTS_CONTAINER,
  deploymentNameSchema,
  endpointNameSchema,
  endpointPatchBodySchema,
  regenerateKeysBodySchema,
} from '../contracts/endpoint.js';
import type {
  AuthMode,
  DeploymentKind,
  DeploymentLogs,
  DeploymentProvisionResult,
  EndpointCredentials,
  EndpointKeys,
  EndpointToken,
  OnlineDeployment,
  OnlineDeploymentList,
  OnlineEndpoint,
  OnlineEndpointList,
  ProvisioningState,
  ResolvedRequestSettings,
} from '../contracts/endpoint.js';
import { SYSTEM_PARTITION } from '../contracts/token.js';
import { parseAssetReference } from '../domain/azureml/references.js';
import { parseDataUri } from '../domain/data-uri.js';
import { checkTraffic } from '../domain/traffic.js';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DeploymentMetricsSource } from '../ports/deployment-metrics.js';
import type { DeploymentProvisioner } from '../ports/deployment-provisioner.js';
import type { EndpointDirectory } from '../ports/endpoint-directory.js';
import type { DocumentContainer, MetadataStore, StoredDocument, WithMeta } from '../ports/metadata-store.js';
import type { SecretStore } from '../ports/secret-store.js';
import type { AssetService } from './asset-service.js';
import { changeDocument, lazyContainer } from './change-document.js';
import { servingPeers } from '../serving/peers.js';
import type { JobService } from './job-service.js';
import type { WorkspaceService } from './workspace-service.js';

/**
 * Online endpoints and their deployments (the management plane of issue 6).
 *
 * One document per endpoint (partition = workspace, id = name) holds the endpoint, its traffic and
 * every deployment, so a change of traffic, of a deployment, or of the keys is one etag-conditioned
 * write that also bumps `revision`: a reader of the document always sees traffic that names only
 * deployments it holds. Endpoint names are unique per host (the scoring route has no workspace):
 * a name index document in the system partition maps each name to its workspace. Keys are
 * 32 random bytes (base64url); the endpoint document keeps only their SHA-256, the plaintext is in
 * the SecretStore for get-credentials. aml tokens are HMAC-SHA256-signed with a host key and expire
 * after an hour. A deployment is stored Creating/Updating, then provisioned by the data plane's
 * DeploymentProvisioner from a durable activity, and ends Succeeded or Failed with its logs. Until
 * a generation has Succeeded the record keeps the last one that did (`serving`): the scoring route
 * serves that one, so a failed update never takes a working deployment down.
 */

export interface EndpointServiceDeps {
  store: MetadataStore;
  clock: Clock;
  workspaces: Pick<WorkspaceService, 'get'>;
  assets: Pick<AssetService, 'getVersion' | 'resolveLabel'>;
  /** Resolves `azureml://jobs/<job>/outputs/<output>` model paths. */
  jobs: Pick<JobService, 'withJobOutputPath'>;
  secrets: SecretStore;
  provisioner: DeploymentProvisioner;
  /** This host's per-deployment counters, shown by GET of an endpoint or a deployment. */
  metrics?: DeploymentMetricsSource;
  /** The HMAC key aml tokens are signed with (loaded once, on first use). */
  tokenKey: () => Promise<Buffer>;
  /** Base URL of the API: the scoring URI starts with it. */
  publicUrl: string;
  /**
   * How long the scoring route may use an endpoint document it read (default 1000 ms). Writes made
   * through this service drop it at once; a change made by another instance (Azure, several
   * Function app instances on one Cosmos DB) is seen within this time.
   */
  scoringCacheMs?: number;
}

export const ENDPOINT_DOCUMENT_VERSION = 1;
/** Lifetime of an aml token, as Azure's. */
export const TOKEN_TTL_SECONDS = 3600;
/** Most bytes of provisioning log kept per deployment (the tail). */
const MAX_LOG_BYTES = 256 * 1024;
/** Digests of presented endpoint keys kept at most (cleared when full). */
const MAX_PRESENTED_DIGESTS = 256;
/** Endpoint documents the scoring route keeps at most (the cache is cleared when full). */
const MAX_SCORING_CACHE_ENTRIES = 1024;
/** What GET of an endpoint says of its counters. */
const HOST_METRICS_NOTE =
  "this host's counts, in memory since it started serving each deployment (see each one's since); other instances and earlier runs of the host are not included";
/** Azure's upper bound of request_timeout_ms. */
const MAX_REQUEST_TIMEOUT_MS = 180_000;
const KUBERNETES_REFUSAL =
  'Kubernetes online endpoints are not supported by Tessera yet; use a managed online endpoint';

/** A deployment as kept in its endpoint's document. */
interface DeploymentRecord extends Omit<
  OnlineDeployment,
  'workspace' | 'endpoint_name' | 'serving_generation' | 'metrics'
> {
  /** The spec as submitted (local paths uploaded), for show and update. */
  spec: Record<string, unknown>;
  /**
   * The last generation that Succeeded, while the current one has not (being updated, or its
   * update Failed): the scoring route serves it. Absent when the current generation is the one
   * serving, or none ever succeeded.
   */
  serving?: ServedGeneration;
}

/** A generation that Succeeded, as its record was then (what the data plane needs to load it). */
type ServedGeneration = Omit<DeploymentRecord, 'spec' | 'serving'>;

interface EndpointDocument extends StoredDocument {
  kind: 'onlineEndpoint';
  schemaVersion: typeof ENDPOINT_DOCUMENT_VERSION;
  name: string;
  workspace: string;
  auth_mode: AuthMode;
  description?: string;
  tags: Record<string, string>;
  traffic: Record<string, number>;
  mirror_traffic: Record<string, number>;
  provisioning_state: ProvisioningState;
  revision: number;
  created_at: string;
  updated_at: string;
  /** SHA-256 (hex) of the primary and secondary keys; never the keys. */
  keyHashes: { primary: string; secondary: string };
  deployments: Record<string, DeploymentRecord>;
}

interface NameIndexDocument extends StoredDocument {
  kind: 'onlineEndpointName';
  name: string;
  workspace: string;
}

interface LogsDocument extends StoredDocument {
  kind: 'deploymentLogs';
  endpoint: string;
  deployment: string;
  content: string;
}

const endpointDocumentSchema = z.looseObject({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('onlineEndpoint'),
  schemaVersion: z.literal(ENDPOINT_DOCUMENT_VERSION),
  name: z.string(),
  auth_mode: z.enum(AUTH_MODES),
  revision: z.number().int(),
  keyHashes: z.object({ primary: z.string(), secondary: z.string() }),
  deployments: z.record(z.string(), z.looseObject({ name: z.string(), generation: z.number().int() })),
});

export type EndpointService = ReturnType<typeof createEndpointService>;

/** `endpoint-keys--<ws>--<name>`: the SecretStore name of an endpoint's keys. */
export function endpointKeysSecretName(workspace: string, name: string): string {
  return `endpoint-keys--${workspace}--${name}`;
}

function nameIndexId(name: string): string {
  return `endpoint-name:${name.toLowerCase()}`;
}

function logsId(endpoint: string, deployment: string): string {
  return `deployment-logs:${endpoint}:${deployment}`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function newKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The kind of a deployment: no code is no-code ONNX; else by the scoring script's extension. */
export function deploymentKindOf(scoringScript: string | undefined): DeploymentKind {
  if (scoringScript === undefined) return 'onnx';
  if (/\.(?:m|c)?js$|\.ts$/i.test(scoringScript)) return 'script';
  if (/\.py$/i.test(scoringScript)) return 'python';
  throw new ValidationError(
    `code_configuration.scoring_script: ${JSON.stringify(scoringScript)} is neither a JavaScript/TypeScript (.js, .mjs, .cjs, .ts) nor a Python (.py) script.`,
    { target: 'code_configuration.scoring_script' },
  );
}

export function createEndpointService(deps: EndpointServiceDeps) {
  const { store, clock } = deps;
  const scoringCacheMs = deps.scoringCacheMs ?? 1000;
  // The scoring route's endpoint documents by lower-cased name. Every write through `container()`
  // clears it and bumps `writes`, and a read started before a write is not cached. A write made by
  // another process of this host arrives through forgetScoringCache.
  const scoringCache = new Map<string, { doc: WithMeta<EndpointDocument> | undefined; at: number }>();
  let writes = 0;
  const forget = (): void => {
    writes++;
    scoringCache.clear();
  };
  // The host's scoring replicas (shared/serving/peers.ts) drop their copies before a write is acknowledged.
  const written = <T>(result: Promise<T>): Promise<T> =>
    result.finally(async () => {
      forget();
      await servingPeers()?.changed();
    });
  const open = lazyContainer(store, ENDPOINTS_CONTAINER);
  let wrapped: Promise<DocumentContainer> | undefined;
  const container = (): Promise<DocumentContainer> => {
    wrapped ??= open().then(
      (c): DocumentContainer => ({
        name: c.name,
        create: (doc) => written(c.create(doc)),
        upsert: (doc, options) => written(c.upsert(doc, options)),
        replace: (doc, options) => written(c.replace(doc, options)),
        delete: (pk, id, options) => written(c.delete(pk, id, options)),
        read: (pk, id) => c.read(pk, id),
        query: (options) => c.query(options),
      }),
      (err: unknown) => {
        wrapped = undefined;
        throw err;
      },
    );
    return wrapped;
  };
  const nowIso = (): string => new Date(clock.now()).toISOString();
  const scoringUri = (name: string): string => `${deps.publicUrl.replace(/\/+$/, '')}/api/endpoints/${name}/score`;

  const checkEndpointName = (name: string): string => {
    const result = endpointNameSchema.safeParse(name);
    if (!result.success) {
      throw new ValidationError(
        `Invalid endpoint name ${JSON.stringify(name)}: an endpoint name has 3-32 letters, digits or '-', starting with a letter.`,
        { target: 'name' },
      );
    }
    return result.data;
  };
  const checkDeploymentName = (name: string): string => {
    const result = deploymentNameSchema.safeParse(name);
    if (!result.success) {
      throw new ValidationError(
        `Invalid deployment name ${JSON.stringify(name)}: a deployment name has 1-32 letters, digits or '-', starting with a letter or digit.`,
        { target: 'name' },
      );
    }
    return result.data;
  };

  const findDoc = async (ws: string, name: string): Promise<WithMeta<EndpointDocument> | undefined> => {
    const doc = await (await container()).read<EndpointDocument>(ws, name);
    if (doc === undefined) return undefined;
    endpointDocumentSchema.parse(doc);
    return doc;
  };
  const readDoc = async (ws: string, name: string): Promise<WithMeta<EndpointDocument>> => {
    const doc = await findDoc(ws, name);
    if (doc === undefined) {
      throw new NotFoundError(`Online endpoint '${name}' does not exist in workspace '${ws}'.`, { target: 'name' });
    }
    return doc;
  };
  /** Read-change-write of an endpoint document; every change bumps its revision in the same write. */
  const update = (ws: string, name: string, change: (doc: EndpointDocument) => EndpointDocument | undefined) =>
    changeDocument(
      container,
      () => readDoc(ws, name),
      (doc) => {
        const next = change(doc);
        if (next === undefined) return undefined;
        next.revision = doc.revision + 1;
        next.updated_at = nowIso();
        return next;
      },
    );

  /** The endpoint by name alone (any workspace): through the name index. */
  const findByName = async (name: string): Promise<WithMeta<EndpointDocument> | undefined> => {
    const index = await (await container()).read<NameIndexDocument>(SYSTEM_PARTITION, nameIndexId(name));
    if (index === undefined) return undefined;
    const doc = await findDoc(index.workspace, index.name);
    return doc !== undefined && doc.name.toLowerCase() === name.toLowerCase() ? doc : undefined;
  };

  /** What `lookup` made of each cached document: the same objects while the document is unchanged. */
  const scoringViews = new WeakMap<EndpointDocument, { endpoint: OnlineEndpoint; deployments: OnlineDeployment[] }>();
  /** findByName for the scoring route, through the cache (see scoringCacheMs). */
  const findForScoring = async (name: string): Promise<WithMeta<EndpointDocument> | undefined> => {
    const key = name.toLowerCase();
    const now = clock.now();
    const hit = scoringCache.get(key);
    if (hit !== undefined && now - hit.at < scoringCacheMs) return hit.doc;
    const before = writes;
    const doc = await findByName(name);
    if (writes === before) {
      if (scoringCache.size >= MAX_SCORING_CACHE_ENTRIES) scoringCache.clear();
      scoringCache.set(key, { doc, at: now });
    }
    return doc;
  };

  const toEndpoint = (doc: EndpointDocument): OnlineEndpoint => ({
    name: doc.name,
    workspace: doc.workspace,
    auth_mode: doc.auth_mode,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    tags: doc.tags,
    traffic: doc.traffic,
    mirror_traffic: doc.mirror_traffic,
    scoring_uri: scoringUri(doc.name),
    provisioning_state: doc.provisioning_state,
    revision: doc.revision,
    created_at: doc.created_at,
    updated_at: doc.updated_at,
  });

  const toDeployment = (doc: EndpointDocument, record: DeploymentRecord): OnlineDeployment => {
    const { spec: _spec, serving, ...rest } = record;
    const servingGeneration = record.provisioning_state === 'Succeeded' ? record.generation : serving?.generation;
    return {
      ...rest,
      endpoint_name: doc.name,
      workspace: doc.workspace,
      ...(servingGeneration === undefined ? {} : { serving_generation: servingGeneration }),
    };
  };

  /** Tells the provisioner the live traffic written in `doc` (hosts outside the data plane follow it). */
  const trafficChanged = async (doc: EndpointDocument): Promise<void> => {
    await deps.provisioner.trafficChanged?.(
      toEndpoint(doc),
      Object.values(doc.deployments).map((r) => toDeployment(doc, r)),
    );
  };

  /** A deployment as the scoring route serves it: its serving generation, in its current state. */
  const servedDeployment = (doc: EndpointDocument, record: DeploymentRecord): OnlineDeployment => {
    if (record.serving === undefined || record.provisioning_state === 'Succeeded') return toDeployment(doc, record);
    return {
      ...toDeployment(doc, { ...record.serving, spec: record.spec }),
      provisioning_state: record.provisioning_state,
      serving_generation: record.serving.generation,
    };
  };

  /** The record of a generation that Succeeded, kept to serve while a newer one is not. */
  const servedGeneration = (record: DeploymentRecord | undefined): ServedGeneration | undefined => {
    if (record === undefined) return undefined;
    if (record.provisioning_state !== 'Succeeded') return record.serving;
    const { spec: _spec, serving: _serving, ...rest } = record;
    return rest;
  };

  const withMetrics = async (deployment: OnlineDeployment): Promise<OnlineDeployment> =>
    deps.metrics === undefined
      ? deployment
      : { ...deployment, metrics: await deps.metrics.deployment(deployment.endpoint_name, deployment.name) };

  // ---------------------------------------------------------------------------------------------
  // Keys and tokens.
  // ---------------------------------------------------------------------------------------------

  const readKeys = async (ws: string, name: string): Promise<EndpointKeys> => {
    const text = await deps.secrets.get(endpointKeysSecretName(ws, name));
    const parsed = text === undefined ? undefined : (JSON.parse(text) as Partial<EndpointKeys>);
    if (typeof parsed?.primaryKey !== 'string' || typeof parsed.secondaryKey !== 'string') {
      throw new NotFoundError(`The keys of online endpoint '${name}' are missing; regenerate them (regenerate-keys).`, {
        target: 'name',
      });
    }
    return { primaryKey: parsed.primaryKey, secondaryKey: parsed.secondaryKey };
  };

  const tokenPayload = (doc: EndpointDocument, expiry: number): string =>
    Buffer.from(JSON.stringify({ e: doc.name.toLowerCase(), c: doc.created_at, x: expiry })).toString('base64url');

  const issueTokenFor = async (doc: EndpointDocument): Promise<EndpointToken> => {
    const nowSeconds = Math.floor(clock.now() / 1000);
    const expiry = nowSeconds + TOKEN_TTL_SECONDS;
    const payload = tokenPayload(doc, expiry);
    const signature = createHmac('sha256', await deps.tokenKey())
      .update(payload)
      .digest('base64url');
    return {
      accessToken: `${payload}.${signature}`,
      expiryTimeUtc: expiry,
      refreshAfterTimeUtc: nowSeconds + Math.floor(TOKEN_TTL_SECONDS / 2),
      tokenType: 'Bearer',
    };
  };

  /** True when `token` is an unexpired aml token of this endpoint (constant-time signature check). */
  const tokenIsValid = async (doc: EndpointDocument, token: string): Promise<boolean> => {
    const dot = token.indexOf('.');
    if (dot <= 0) return false;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = createHmac('sha256', await deps.tokenKey())
      .update(payload)
      .digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return false;
    }
    const c = claims as { e?: unknown; c?: unknown; x?: unknown };
    return (
      c.e === doc.name.toLowerCase() && c.c === doc.created_at && typeof c.x === 'number' && c.x * 1000 > clock.now()
    );
  };

  /** Compares the key's hash with both stored hashes, always both, in constant time. */
  // Digests of recently presented credentials, and each document's stored hashes as bytes: a
  // request does no hashing or hex decoding of its own when its key was seen. The comparison itself
  // is constant-time on the digests, as before.
  const presentedDigests = new Map<string, Buffer>();
  const storedDigests = new WeakMap<EndpointDocument, readonly Buffer[]>();
  const keyIsValid = (doc: EndpointDocument, key: string): boolean => {
    let given = presentedDigests.get(key);
    if (given === undefined) {
      given = sha256(key);
      if (presentedDigests.size >= MAX_PRESENTED_DIGESTS) presentedDigests.clear();
      presentedDigests.set(key, given);
    }
    let stored = storedDigests.get(doc);
    if (stored === undefined) {
      stored = [doc.keyHashes.primary, doc.keyHashes.secondary].map((h) => Buffer.from(h, 'hex'));
      storedDigests.set(doc, stored);
    }
    let ok = false;
    for (const expected of stored) {
      if (expected.length === given.length && timingSafeEqual(given, expected)) ok = true;
    }
    return ok;
  };

  // ---------------------------------------------------------------------------------------------
  // Deployment resolution.
  // ---------------------------------------------------------------------------------------------

  const resolveModelReference = async (ws: string, reference: string, keyPath: string) => {
    const ref = parseAssetReference(reference, { target: keyPath });
    if (ref.registry !== undefined) {
      throw new ValidationError(`${keyPath}: registry models (${reference}) are not supported by Tessera yet.`, {
        target: keyPath,
      });
    }
    try {
      const asset =
        ref.version !== undefined
          ? await deps.assets.getVersion(ws, 'model', ref.name, ref.version)
          : await deps.assets.resolveLabel(ws, 'model', ref.name, ref.label ?? 'latest');
      const path = asset.spec.path;
      if (typeof path !== 'string') {
        throw new ValidationError(`${keyPath}: the model ${reference} has no path.`, { target: keyPath });
      }
      return { asset: `azureml:${asset.name}:${asset.version ?? ''}`, uri: path };
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new ValidationError(`${keyPath}: ${err.message}`, { target: keyPath, cause: err });
      }
      throw err;
    }
  };

  const resolveModelPath = async (ws: string, path: string, keyPath: string): Promise<{ uri: string }> => {
    if (path.startsWith('azureml://jobs/')) {
      const resolved = await deps.jobs.withJobOutputPath(ws, { path, type: 'custom_model' });
      return { uri: resolved.path };
    }
    if (path.startsWith('azureml:') && !path.startsWith('azureml://')) return resolveModelReference(ws, path, keyPath);
    const parsed = parseDataUri(path);
    if (parsed.scheme === 'file') {
      throw new ValidationError(
        `${keyPath}: ${path} is a local path; upload it first (tessera online-deployment create uploads the local paths of a YAML file).`,
        { target: keyPath },
      );
    }
    return { uri: path };
  };

  const resolveModel = async (
    ws: string,
    model: string | DeploymentInlineModel | undefined,
  ): Promise<OnlineDeployment['model']> => {
    if (model === undefined) return undefined;
    if (typeof model === 'string') {
      if (model.startsWith('azureml:') && !model.startsWith('azureml://')) {
        return resolveModelReference(ws, model, 'model');
      }
      return resolveModelPath(ws, model, 'model');
    }
    if (model.path !== undefined) return resolveModelPath(ws, model.path, 'model.path');
    if (model.id !== undefined) return resolveModelPath(ws, model.id, 'model.id');
    if (model.name !== undefined) {
      return resolveModelReference(
        ws,
        model.version === undefined ? `azureml:${model.name}@latest` : `azureml:${model.name}:${model.version}`,
        'model',
      );
    }
    throw new ValidationError('model: give a registered model (azureml:<name>:<version>) or a path.', {
      target: 'model',
    });
  };

  const resolveCode = (spec: OnlineDeploymentSpec): OnlineDeployment['code'] => {
    const config = spec.code_configuration;
    if (config === undefined) return undefined;
    const parsed = parseDataUri(config.code);
    if (parsed.scheme === 'file') {
      throw new ValidationError(
        `code_configuration.code: ${config.code} is a local path; upload it first (tessera online-deployment create uploads it).`,
        { target: 'code_configuration.code' },
      );
    }
    if (parsed.scheme !== 'azureml-datastore') {
      throw new ValidationError(
        `code_configuration.code: give the uploaded folder as azureml://datastores/<datastore>/paths/<path> (got ${config.code}).`,
        { target: 'code_configuration.code' },
      );
    }
    return { uri: config.code, scoring_script: config.scoring_script };
  };

  const resolveRequestSettings = (spec: OnlineDeploymentSpec): ResolvedRequestSettings => {
    const given = spec.request_settings ?? {};
    const settings = {
      request_timeout_ms: given.request_timeout_ms ?? DEFAULT_REQUEST_SETTINGS.request_timeout_ms,
      max_concurrent_requests_per_instance:
        given.max_concurrent_requests_per_instance ?? DEFAULT_REQUEST_SETTINGS.max_concurrent_requests_per_instance,
      max_queue_wait_ms: given.max_queue_wait_ms ?? DEFAULT_REQUEST_SETTINGS.max_queue_wait_ms,
    };
    if (settings.request_timeout_ms < 1 || settings.request_timeout_ms > MAX_REQUEST_TIMEOUT_MS) {
      throw new ValidationError(
        `request_settings.request_timeout_ms: ${settings.request_timeout_ms} is out of range (1 to ${MAX_REQUEST_TIMEOUT_MS}).`,
        { target: 'request_settings.request_timeout_ms' },
      );
    }
    if (settings.max_concurrent_requests_per_instance < 1) {
      throw new ValidationError('request_settings.max_concurrent_requests_per_instance: must be at least 1.', {
        target: 'request_settings.max_concurrent_requests_per_instance',
      });
    }
    return settings;
  };

  /** Everything a deployment spec names, resolved and checked; nothing is stored. */
  const resolveDeployment = async (ws: string, spec: OnlineDeploymentSpec) => {
    if (spec.type === 'kubernetes') throw new ValidationError(KUBERNETES_REFUSAL, { target: 'type' });
    const code = resolveCode(spec);
    const kind = deploymentKindOf(code?.scoring_script);
    const model = await resolveModel(ws, spec.model);
    if (kind === 'onnx' && model === undefined) {
      throw new ValidationError(
        'model: a deployment without code_configuration is a no-code deployment and needs a model (a folder holding an .onnx file).',
        { target: 'model' },
      );
    }
    const instanceCount = spec.instance_count ?? 1;
    if (instanceCount < 1) {
      throw new ValidationError('instance_count: must be at least 1.', { target: 'instance_count' });
    }
    return {
      kind,
      ...(model === undefined ? {} : { model }),
      ...(code === undefined ? {} : { code }),
      ...(spec.environment === undefined ? {} : { environment: spec.environment as OnlineDeployment['environment'] }),
      instance_type: spec.instance_type ?? 'Standard_DS3_v2',
      instance_count: instanceCount,
      request_settings: resolveRequestSettings(spec),
      environment_variables: spec.environment_variables ?? {},
      ...(spec.data_collector === undefined ? {} : { data_collector: spec.data_collector }),
      ...(spec.description === undefined ? {} : { description: spec.description }),
      tags: spec.tags ?? {},
    };
  };

  const writeLogs = async (ws: string, endpoint: string, deployment: string, content: string): Promise<void> => {
    const bytes = Buffer.from(content, 'utf8');
    const kept = bytes.length > MAX_LOG_BYTES ? bytes.subarray(bytes.length - MAX_LOG_BYTES).toString('utf8') : content;
    const doc: LogsDocument = {
      id: logsId(endpoint, deployment),
      pk: ws,
      kind: 'deploymentLogs',
      endpoint,
      deployment,
      content: kept,
    };
    await (await container()).upsert(doc);
  };

  const service = {
    // -------------------------------------------------------------------------------------------
    // Endpoints.
    // -------------------------------------------------------------------------------------------

    /**
     * Creates an endpoint from its spec (keys made for it), or updates an existing one: description,
     * tags, auth mode, and traffic when the spec gives it. `created` says which.
     */
    async createOrUpdateEndpoint(
      ws: string,
      name: string,
      body: unknown,
    ): Promise<{ endpoint: OnlineEndpoint; created: boolean }> {
      await deps.workspaces.get(ws);
      checkEndpointName(name);
      const spec: OnlineEndpointSpec = parseSpec('onlineEndpoint', body);
      if (isKubernetesEndpointSpec(spec)) throw new ValidationError(KUBERNETES_REFUSAL, { target: 'compute' });
      if (spec.name !== name) {
        throw new ValidationError(`name: the spec names '${spec.name}' but the request is for '${name}'.`, {
          target: 'name',
        });
      }
      if (spec.auth_mode === 'aad_token') {
        throw new ValidationError(
          'auth_mode: aad_token (Microsoft Entra ID) is not supported for online endpoints by Tessera yet; use key or aml_token.',
          { target: 'auth_mode' },
        );
      }
      const authMode: AuthMode = spec.auth_mode;
      const c = await container();

      const existing = await findDoc(ws, name);
      if (existing !== undefined) {
        const updated = await update(ws, name, (doc) => {
          doc.auth_mode = authMode;
          if (spec.description !== undefined) doc.description = spec.description;
          if (spec.tags !== undefined) doc.tags = spec.tags;
          const traffic = spec.traffic ?? doc.traffic;
          const mirror = spec.mirror_traffic ?? doc.mirror_traffic;
          checkTraffic(traffic, mirror, doc.deployments);
          doc.traffic = traffic;
          doc.mirror_traffic = mirror;
          return doc;
        });
        if (spec.traffic !== undefined) await trafficChanged(updated);
        return { endpoint: toEndpoint(updated), created: false };
      }

      // A new endpoint has no deployments: traffic to any is refused, naming it.
      if (Object.keys(spec.traffic ?? {}).length > 0 || Object.keys(spec.mirror_traffic ?? {}).length > 0) {
        checkTraffic(spec.traffic ?? {}, spec.mirror_traffic ?? {}, {});
      }
      // Claim the name on this host first: the scoring route finds endpoints by name alone.
      const index: NameIndexDocument = {
        id: nameIndexId(name),
        pk: SYSTEM_PARTITION,
        kind: 'onlineEndpointName',
        name,
        workspace: ws,
      };
      try {
        await c.create(index);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        const held = await c.read<NameIndexDocument>(SYSTEM_PARTITION, index.id);
        const owner = held === undefined ? undefined : await findDoc(held.workspace, held.name);
        if (owner !== undefined) {
          throw new ConflictError(
            `The endpoint name '${name}' is taken${held?.workspace === ws ? ` (by '${owner.name}')` : ' by an endpoint of another workspace'}; endpoint names are unique on a host. Choose another name.`,
            { target: 'name' },
          );
        }
        // A claim left by a create that did not finish: take it over.
        await c.upsert(index);
      }
      const keys = { primaryKey: newKey(), secondaryKey: newKey() };
      await deps.secrets.put(endpointKeysSecretName(ws, name), JSON.stringify(keys));
      const now = nowIso();
      const doc: EndpointDocument = {
        id: name,
        pk: ws,
        kind: 'onlineEndpoint',
        schemaVersion: ENDPOINT_DOCUMENT_VERSION,
        name,
        workspace: ws,
        auth_mode: authMode,
        ...(spec.description === undefined ? {} : { description: spec.description }),
        tags: spec.tags ?? {},
        traffic: {},
        mirror_traffic: {},
        provisioning_state: 'Succeeded',
        revision: 1,
        created_at: now,
        updated_at: now,
        keyHashes: {
          primary: sha256(keys.primaryKey).toString('hex'),
          secondary: sha256(keys.secondaryKey).toString('hex'),
        },
        deployments: {},
      };
      try {
        return { endpoint: toEndpoint(await c.create(doc)), created: true };
      } catch (err) {
        if (err instanceof ConflictError) {
          throw new ConflictError(`Online endpoint '${name}' was created by another request at the same time.`, {
            target: 'name',
          });
        }
        throw err;
      }
    },

    /** One endpoint, with its deployments' counters on this host when a metrics source is wired. */
    async getEndpoint(ws: string, name: string): Promise<OnlineEndpoint> {
      const doc = await readDoc(ws, name);
      const endpoint = toEndpoint(doc);
      const metrics = deps.metrics;
      if (metrics === undefined) return endpoint;
      const names = Object.keys(doc.deployments).sort();
      return {
        ...endpoint,
        metrics: {
          scope: 'host',
          note: HOST_METRICS_NOTE,
          host_started_at: new Date(metrics.startedAt).toISOString(),
          deployments: Object.fromEntries(
            await Promise.all(names.map(async (d) => [d, await metrics.deployment(doc.name, d)] as const)),
          ),
        },
      };
    },

    /** The endpoints of a workspace, by name. */
    async listEndpoints(ws: string): Promise<OnlineEndpointList> {
      await deps.workspaces.get(ws);
      const c = await container();
      const value: OnlineEndpoint[] = [];
      let continuation: string | undefined;
      do {
        const page = await c.query<EndpointDocument>({
          partitionKey: ws,
          filters: [{ path: 'kind', op: '=', value: 'onlineEndpoint' }],
          limit: 1000,
          ...(continuation === undefined ? {} : { continuation }),
        });
        value.push(...page.items.map(toEndpoint));
        continuation = page.continuation;
      } while (continuation !== undefined);
      value.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { value };
    },

    /** Deletes an endpoint with all its deployments, keys and logs. NotFoundError when absent. */
    async deleteEndpoint(ws: string, name: string): Promise<void> {
      const doc = await readDoc(ws, name);
      const c = await container();
      await c.delete(ws, name);
      for (const record of Object.values(doc.deployments)) await deps.provisioner.removed?.(toDeployment(doc, record));
      const index = await c.read<NameIndexDocument>(SYSTEM_PARTITION, nameIndexId(name));
      if (index?.workspace === ws) await c.delete(SYSTEM_PARTITION, nameIndexId(name));
      await deps.secrets.delete(endpointKeysSecretName(ws, name));
      for (const deployment of Object.keys(doc.deployments)) await c.delete(ws, logsId(name, deployment));
    },

    /** Applies an `update`: traffic and mirror traffic (validated together, one write), description, tags. */
    async patchEndpoint(ws: string, name: string, body: unknown): Promise<OnlineEndpoint> {
      const parsed = endpointPatchBodySchema.safeParse(body);
      if (!parsed.success) {
        throw new ValidationError(
          `Invalid endpoint update: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}.`,
          {
            target: 'body',
          },
        );
      }
      const patch = parsed.data;
      const doc = await update(ws, name, (d) => {
        const traffic = patch.traffic ?? d.traffic;
        const mirror = patch.mirror_traffic ?? d.mirror_traffic;
        checkTraffic(traffic, mirror, d.deployments);
        d.traffic = traffic;
        d.mirror_traffic = mirror;
        if (patch.description !== undefined) d.description = patch.description;
        if (patch.tags !== undefined) d.tags = patch.tags;
        return d;
      });
      if (patch.traffic !== undefined) await trafficChanged(doc);
      return toEndpoint(doc);
    },

    /** Sets live traffic (one atomic write). */
    async setTraffic(ws: string, name: string, traffic: Record<string, number>): Promise<OnlineEndpoint> {
      return service.patchEndpoint(ws, name, { traffic });
    },

    /** Sets mirror traffic (one atomic write). */
    async setMirrorTraffic(ws: string, name: string, mirror: Record<string, number>): Promise<OnlineEndpoint> {
      return service.patchEndpoint(ws, name, { mirror_traffic: mirror });
    },

    /** Key mode: the two keys. aml_token mode: a new token. */
    async getCredentials(ws: string, name: string): Promise<EndpointCredentials> {
      const doc = await readDoc(ws, name);
      return doc.auth_mode === 'key' ? readKeys(ws, name) : issueTokenFor(doc);
    },

    /** The two keys of a key endpoint (Azure's listKeys); a ValidationError for an aml_token endpoint. */
    async listKeys(ws: string, name: string): Promise<EndpointKeys> {
      const doc = await readDoc(ws, name);
      if (doc.auth_mode !== 'key') {
        throw new ValidationError(`Online endpoint '${name}' uses aml_token authentication: ask for a token instead.`, {
          target: 'name',
        });
      }
      return readKeys(ws, name);
    },

    /** Replaces one key; the old one stops working at once (the hash changes in the same write). */
    async regenerateKeys(ws: string, name: string, keyType: unknown): Promise<EndpointKeys> {
      const parsed = regenerateKeysBodySchema.safeParse({ keyType });
      if (!parsed.success) {
        throw new ValidationError(`keyType: expected primary or secondary, found ${JSON.stringify(keyType)}.`, {
          target: 'keyType',
        });
      }
      const which = parsed.data.keyType;
      const doc = await readDoc(ws, name);
      if (doc.auth_mode !== 'key') {
        throw new ValidationError(
          `Online endpoint '${name}' uses aml_token authentication; it has no keys to regenerate.`,
          {
            target: 'keyType',
          },
        );
      }
      const keys = await readKeys(ws, name).catch(() => ({ primaryKey: newKey(), secondaryKey: newKey() }));
      const fresh = newKey();
      const next: EndpointKeys =
        which === 'primary' ? { ...keys, primaryKey: fresh } : { ...keys, secondaryKey: fresh };
      await deps.secrets.put(endpointKeysSecretName(ws, name), JSON.stringify(next));
      await update(ws, name, (d) => {
        d.keyHashes = {
          primary: sha256(next.primaryKey).toString('hex'),
          secondary: sha256(next.secondaryKey).toString('hex'),
        };
        return d;
      });
      return next;
    },

    /** A new aml token (aml_token endpoints only): one hour, signed with the host's key. */
    async issueToken(ws: string, name: string): Promise<EndpointToken> {
      const doc = await readDoc(ws, name);
      if (doc.auth_mode !== 'aml_token') {
        throw new ValidationError(
          `Online endpoint '${name}' uses key authentication; get its keys with get-credentials.`,
          {
            target: 'name',
          },
        );
      }
      return issueTokenFor(doc);
    },

    /** See EndpointDirectory.verifyCaller. */
    async verifyCaller(endpointName: string, authorization: string | null): Promise<void> {
      const doc = await findForScoring(endpointName);
      if (doc === undefined) {
        throw new NotFoundError(`Online endpoint '${endpointName}' does not exist.`, { target: 'endpoint' });
      }
      const match = authorization === null ? null : /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
      const credential = match?.[1];
      const what = doc.auth_mode === 'key' ? 'one of its keys' : 'an aml token from get-credentials';
      if (credential === undefined) {
        throw new UnauthorizedError(
          `Online endpoint '${doc.name}' needs 'Authorization: Bearer <credential>' with ${what}.`,
          { target: 'Authorization' },
        );
      }
      const ok = doc.auth_mode === 'key' ? keyIsValid(doc, credential) : await tokenIsValid(doc, credential);
      if (!ok) {
        throw new UnauthorizedError(
          `The credential is not valid for online endpoint '${doc.name}' (expected ${what}${doc.auth_mode === 'aml_token' ? ', unexpired' : ''}).`,
          { target: 'Authorization' },
        );
      }
    },

    /** Drops the scoring route's cached endpoint documents: another process of this host wrote one. */
    forgetScoringCache(): void {
      forget();
    },

    /** See EndpointDirectory.lookup. */
    async lookup(
      endpointName: string,
    ): Promise<{ endpoint: OnlineEndpoint; deployments: OnlineDeployment[] } | undefined> {
      const doc = await findForScoring(endpointName);
      if (doc === undefined) return undefined;
      let view = scoringViews.get(doc);
      if (view === undefined) {
        view = {
          endpoint: toEndpoint(doc),
          deployments: Object.values(doc.deployments).map((r) => servedDeployment(doc, r)),
        };
        scoringViews.set(doc, view);
      }
      return view;
    },

    // -------------------------------------------------------------------------------------------
    // Deployments.
    // -------------------------------------------------------------------------------------------

    /**
     * Stores a deployment Creating (or Updating) and returns it with the input of its provisioning
     * orchestration, which the caller starts. A bad spec, an unknown model or a Kubernetes
     * deployment is a ValidationError; the endpoint's other deployments are not touched.
     */
    async createOrUpdateDeployment(
      ws: string,
      endpointName: string,
      deploymentName: string,
      body: unknown,
    ): Promise<{
      deployment: OnlineDeployment;
      created: boolean;
      provision: { workspace: string; endpoint: string; deployment: string; generation: number };
    }> {
      checkDeploymentName(deploymentName);
      const spec: OnlineDeploymentSpec = parseSpec('onlineDeployment', body);
      if (spec.name !== undefined && spec.name !== deploymentName) {
        throw new ValidationError(`name: the spec names '${spec.name}' but the request is for '${deploymentName}'.`, {
          target: 'name',
        });
      }
      if (spec.endpoint_name !== undefined && spec.endpoint_name !== endpointName) {
        throw new ValidationError(
          `endpoint_name: the spec names '${spec.endpoint_name}' but the request is for endpoint '${endpointName}'.`,
          { target: 'endpoint_name' },
        );
      }
      await readDoc(ws, endpointName);
      const resolved = await resolveDeployment(ws, spec);
      let created = false;
      let record: DeploymentRecord | undefined;
      const doc = await update(ws, endpointName, (d) => {
        const previous = d.deployments[deploymentName];
        created = previous === undefined;
        const now = nowIso();
        record = {
          name: deploymentName,
          ...resolved,
          provisioning_state: created ? 'Creating' : 'Updating',
          generation: (previous?.generation ?? 0) + 1,
          created_at: previous?.created_at ?? now,
          updated_at: now,
          spec: { ...(spec as Record<string, unknown>), name: deploymentName, endpoint_name: endpointName },
        };
        const serving = servedGeneration(previous);
        if (serving !== undefined) record.serving = serving;
        d.deployments[deploymentName] = record;
        return d;
      });
      const stored = doc.deployments[deploymentName] ?? record;
      if (stored === undefined) throw new Error('internal: the deployment was not stored');
      await writeLogs(
        ws,
        endpointName,
        deploymentName,
        `${stored.updated_at} ${stored.provisioning_state}: generation ${stored.generation} queued for provisioning\n`,
      );
      return {
        deployment: toDeployment(doc, stored),
        created,
        provision: { workspace: ws, endpoint: endpointName, deployment: deploymentName, generation: stored.generation },
      };
    },

    /** One deployment, with its counters on this host when a metrics source is wired. */
    async getDeployment(ws: string, endpointName: string, deploymentName: string): Promise<OnlineDeployment> {
      const doc = await readDoc(ws, endpointName);
      const record = doc.deployments[deploymentName];
      if (record === undefined) {
        throw new NotFoundError(
          `Online deployment '${deploymentName}' does not exist on endpoint '${endpointName}' in workspace '${ws}'.`,
          { target: 'name' },
        );
      }
      return withMetrics(toDeployment(doc, record));
    },

    async listDeployments(ws: string, endpointName: string): Promise<OnlineDeploymentList> {
      const doc = await readDoc(ws, endpointName);
      const value = Object.values(doc.deployments)
        .map((r) => toDeployment(doc, r))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { value };
    },

    /** Deletes a deployment; ConflictError while it has live or mirror traffic (set it to 0 first), as Azure. */
    async deleteDeployment(ws: string, endpointName: string, deploymentName: string): Promise<void> {
      const deleted = await service.getDeployment(ws, endpointName, deploymentName);
      await update(ws, endpointName, (d) => {
        if (d.deployments[deploymentName] === undefined) return undefined;
        const live = d.traffic[deploymentName] ?? 0;
        const mirror = d.mirror_traffic[deploymentName] ?? 0;
        if (live > 0 || mirror > 0) {
          throw new ConflictError(
            `Deployment '${deploymentName}' has ${live > 0 ? `${live}% of the live traffic` : `${mirror}% mirrored traffic`}; set it to 0 (online-endpoint update --traffic) before deleting it.`,
            { target: 'name' },
          );
        }
        delete d.deployments[deploymentName];
        delete d.traffic[deploymentName];
        delete d.mirror_traffic[deploymentName];
        return d;
      });
      await deps.provisioner.removed?.(deleted);
      await (await container()).delete(ws, logsId(endpointName, deploymentName));
    },

    /** The provisioning log of a deployment; `lines` keeps only the last lines. */
    async getLogs(
      ws: string,
      endpointName: string,
      deploymentName: string,
      options: { lines?: number } = {},
    ): Promise<DeploymentLogs> {
      await service.getDeployment(ws, endpointName, deploymentName);
      const doc = await (await container()).read<LogsDocument>(ws, logsId(endpointName, deploymentName));
      let content = doc?.content ?? '';
      if (options.lines !== undefined) {
        const lines = content.split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        content = lines.slice(Math.max(0, lines.length - options.lines)).join('\n') + (lines.length > 0 ? '\n' : '');
      }
      return { content };
    },

    /**
     * The provisioning activity: provisions one generation of a deployment through the data plane
     * and stores Succeeded, or Failed with the reason and logs. Idempotent: a generation already
     * provisioned, replaced or deleted is not provisioned again. A provisioner that throws fails
     * the deployment with the error's message (its own bug must not be retried forever).
     */
    async provisionDeployment(input: {
      workspace: string;
      endpoint: string;
      deployment: string;
      generation: number;
    }): Promise<DeploymentProvisionResult> {
      const { workspace: ws, endpoint, deployment, generation } = input;
      const doc = await findDoc(ws, endpoint);
      const record = doc?.deployments[deployment];
      if (doc === undefined || record === undefined || record.generation !== generation) return { state: 'Superseded' };
      if (record.provisioning_state === 'Succeeded' || record.provisioning_state === 'Failed') {
        return { state: record.provisioning_state };
      }
      const started = nowIso();
      let outcome: { ok: true } | { ok: false; reason: string; logs: string };
      try {
        outcome = await deps.provisioner.provision(toDeployment(doc, record));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        outcome = {
          ok: false,
          reason: `provisioning failed: ${message}`,
          logs: err instanceof Error ? (err.stack ?? message) : message,
        };
      }
      let state: DeploymentProvisionResult['state'] = 'Superseded';
      let servingAfter: number | undefined;
      await update(ws, endpoint, (d) => {
        const current = d.deployments[deployment];
        if (current === undefined || current.generation !== generation) return undefined;
        state = outcome.ok ? 'Succeeded' : 'Failed';
        current.provisioning_state = state;
        current.updated_at = nowIso();
        if (outcome.ok) {
          delete current.error;
          delete current.serving;
        } else current.error = { reason: outcome.reason };
        servingAfter = current.serving?.generation;
        return d;
      }).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined; // the endpoint was deleted meanwhile
        throw err;
      });
      if (state !== 'Superseded') {
        const header = `${started} provisioning generation ${generation} (${record.kind})\n`;
        const body = outcome.ok
          ? ''
          : `${outcome.logs}${outcome.logs.endsWith('\n') || outcome.logs === '' ? '' : '\n'}`;
        const kept =
          outcome.ok || servingAfter === undefined
            ? ''
            : `${nowIso()} generation ${servingAfter} keeps serving the deployment's requests\n`;
        const footer = `${nowIso()} ${state}${outcome.ok ? '' : `: ${outcome.reason}`}\n${kept}`;
        await writeLogs(ws, endpoint, deployment, header + body + footer);
      }
      return { state };
    },
  };

  const directory: EndpointDirectory = { lookup: service.lookup, verifyCaller: service.verifyCaller };
  return { ...service, directory };
}

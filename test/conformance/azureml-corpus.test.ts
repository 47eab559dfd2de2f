import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpecKind } from '../../shared/contracts/azureml/index.js';
import { SpecError } from '../../shared/domain/azureml/spec-loader.js';
import { loadSpecFile } from '../../shared/services/spec-file.js';

/**
 * Conformance of the Azure ML spec loader against the corpus of real YAML files in
 * ../shared/conformance/azureml (Azure/azureml-examples `cli/` and azure-sdk-for-python test configs;
 * INDEX.md and inventory.json describe each file). Every file is loaded as `az ml <kind> create`
 * would load it: the inventory's kind says which command, hence the kind asked for. Files of a
 * kind Tessera supports must load; every other file must be rejected with a SpecError naming the
 * file, the key path and the reason; nothing may crash.
 */

const CORPUS = fileURLToPath(new URL('../../../../shared/conformance/azureml/', import.meta.url));

/** Inventory kind → the kind asked for (the `az ml` command that loads it). Kinds not here are not supported. */
const COMMAND_KIND: Record<string, SpecKind> = {
  data: 'data',
  model: 'model',
  environment: 'environment',
  azureBlob: 'datastore',
  azureFile: 'datastore',
  azureDataLakeGen1: 'datastore',
  azureDataLakeGen2: 'datastore',
  amlCompute: 'compute',
  computeInstance: 'compute',
  vmCompute: 'compute',
  kubernetesCompute: 'compute',
  synapseSparkCompute: 'compute',
  commandComponent: 'component',
  pipelineComponent: 'component',
  sparkComponent: 'component',
  parallelComponent: 'component',
  commandJob: 'job',
  sweepJob: 'job',
  pipelineJob: 'job',
  autoMLJob: 'job',
  sparkJob: 'job',
  MLTable: 'mltable',
  managedOnlineEndpoint: 'onlineEndpoint',
  kubernetesOnlineEndpoint: 'onlineEndpoint',
  managedOnlineDeployment: 'onlineDeployment',
  kubernetesOnlineDeployment: 'onlineDeployment',
  // Loaded with `az ml job create` too, but Tessera does not run them yet: they must be rejected.
  finetuningJob: 'job',
  distillationJob: 'job',
};

/** Inventory kinds that must load (assets, jobs Tessera validates, MLTable files). */
const SUPPORTED = new Set(Object.keys(COMMAND_KIND).filter((k) => k !== 'finetuningJob' && k !== 'distillationJob'));

/** Asset kinds held to the 95% target. */
const ASSET_KINDS = new Set([
  'data',
  'model',
  'environment',
  'azureBlob',
  'azureFile',
  'azureDataLakeGen1',
  'azureDataLakeGen2',
  'amlCompute',
  'computeInstance',
  'vmCompute',
  'kubernetesCompute',
  'synapseSparkCompute',
  'commandComponent',
  'pipelineComponent',
  'sparkComponent',
  'parallelComponent',
]);

/**
 * Files of supported kinds that are wrong as committed upstream, with the key path that must be
 * named. Any other rejection of a supported kind fails this suite, and so does one of these loading.
 */
const EXPECTED_REJECTIONS: Record<string, { keyPath: string; why: string }> = {
  'azureml-examples/cli/endpoints/online/managed/minimal/single-model-registered/model.yml': {
    keyPath: 'version',
    why: 'unfilled {{MODEL_VERSION}} placeholder (the example script fills it in with sed)',
  },
  'azureml-examples/cli/jobs/pipelines-with-components/basics/3a_basic_pipeline/pipeline.yml': {
    keyPath: 'settings.default_datestore',
    why: 'typo of default_datastore, which az ml silently drops',
  },
  'azureml-examples/cli/jobs/automl-standalone-jobs/cli-automl-classification-task-bankmarketing/cli-automl-classification-task-bankmarketing-serverless.yml':
    {
      keyPath: 'resources',
      why: 'resources written as one string ("instance_type=... instance_count=5") instead of a mapping',
    },
  'azureml-examples/cli/endpoints/online/custom-container/minimal/multimodel/minimal-multimodel-deployment.yml': {
    keyPath: '',
    why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/minimal/single-model/conda-in-dockerfile/minimal-single-model-conda-in-dockerfile-deployment.yml':
    {
      keyPath: '',
      why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
    },
  'azureml-examples/cli/endpoints/online/custom-container/minimal/single-model/pip-in-dockerfile/minimal-single-model-pip-in-dockerfile-deployment.yml':
    {
      keyPath: '',
      why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
    },
  'azureml-examples/cli/endpoints/online/custom-container/mlflow/multideployment-scikit/mlflow-deployment.yml': {
    keyPath: '',
    why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/r/multimodel-plumber/r-deployment.yml': {
    keyPath: '',
    why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/tfserving/half-plus-two-integrated/half-plus-two-integrated-deployment.yml':
    {
      keyPath: '',
      why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
    },
  'azureml-examples/cli/endpoints/online/custom-container/torchserve/densenet/torchserve-deployment.yml': {
    keyPath: '',
    why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/triton/single-model/triton-cc-deployment.yml': {
    keyPath: '',
    why: 'unfilled {{ACR_NAME}} placeholder in the image (not valid YAML until the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/minimal/multimodel/minimal-multimodel-endpoint.yml': {
    keyPath: 'name',
    why: 'unfilled "{{ENDPOINT_NAME}}" placeholder (the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/minimal/single-model/conda-in-dockerfile/minimal-single-model-conda-in-dockerfile-endpoint.yml':
    { keyPath: 'name', why: 'unfilled "{{ENDPOINT_NAME}}" placeholder (the example script fills it in with sed)' },
  'azureml-examples/cli/endpoints/online/custom-container/minimal/single-model/minimal-single-model-endpoint.yml': {
    keyPath: 'name',
    why: 'unfilled "{{ENDPOINT_NAME}}" placeholder (the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/mlflow/multideployment-scikit/mlflow-endpoint.yml': {
    keyPath: 'name',
    why: 'unfilled "{{ENDPOINT_NAME}}" placeholder (the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/triton/single-model/triton-cc-endpoint.yml': {
    keyPath: 'name',
    why: 'unfilled "{{ENDPOINT_NAME}}" placeholder (the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/custom-container/tfserving/half-plus-two/tfserving-deployment.yml': {
    keyPath: 'model.version',
    why: 'unfilled {{MODEL_VERSION}} placeholder (the example script fills it in with sed)',
  },
  'azureml-examples/cli/endpoints/online/managed/minimal/single-model-registered/deployment.yml': {
    keyPath: 'endpoint_name',
    why: 'unfilled {{ENDPOINT_NAME}} placeholder (the example script fills it in with sed)',
  },
  'azure-sdk-for-python/sdk/ml/azure-ai-ml/tests/test_configs/deployments/online/online_deployment_managed_full.yml': {
    keyPath: '',
    why: 'instance_type given twice; PyYAML keeps the last, Tessera refuses duplicate keys',
  },
};

interface InventoryEntry {
  corpus_path: string;
  kind: string;
}

type Outcome =
  | { status: 'loaded'; kind: SpecKind }
  | { status: 'rejected'; error: SpecError }
  | { status: 'crashed'; error: unknown };

async function tryLoad(path: string, expectedKind: SpecKind | undefined): Promise<Outcome> {
  try {
    const loaded = await loadSpecFile(path, expectedKind === undefined ? {} : { expectedKind });
    return { status: 'loaded', kind: loaded.kind };
  } catch (error) {
    return error instanceof SpecError ? { status: 'rejected', error } : { status: 'crashed', error };
  }
}

/** Spec files on disk: YAML files and files named MLTable. */
function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...specFiles(full));
    else if (/\.ya?ml$/i.test(entry) || entry === 'MLTable') out.push(full);
  }
  return out.sort();
}

/** A rejection reason with quoted values elided, so that files failing alike count together. */
function reason(error: SpecError): string {
  const text = `${error.keyPath === '' ? '(document)' : error.keyPath}: ${error.problem}`
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\{\{[^}]*\}\}/g, '{{…}}');
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}

const corpusMissing = existsSync(join(CORPUS, 'inventory.json'))
  ? undefined
  : `the Azure ML conformance corpus is not at ${CORPUS} (expected ../shared/conformance/azureml next to the repository)`;

test(
  'Azure ML YAML corpus: supported kinds load, the rest are rejected precisely, nothing crashes',
  { skip: corpusMissing },
  async (t) => {
    const inventory = JSON.parse(readFileSync(join(CORPUS, 'inventory.json'), 'utf8')) as { files: InventoryEntry[] };
    const kindOf = new Map(inventory.files.map((f) => [f.corpus_path, f.kind]));
    const files = specFiles(CORPUS);
    assert.ok(
      files.length >= inventory.files.length,
      `found ${files.length} spec files, inventory lists ${inventory.files.length}`,
    );

    const rows = new Map<string, { loaded: number; rejected: number; reasons: Map<string, number> }>();
    const crashes: string[] = [];
    const imprecise: string[] = [];
    const unexpectedRejections: string[] = [];
    const unexpectedLoads: string[] = [];
    const expectedSeen = new Set<string>();

    for (const path of files) {
      const rel = relative(CORPUS, path).split(sep).join('/');
      const kind = kindOf.get(rel) ?? '(not in inventory)';
      const row = rows.get(kind) ?? { loaded: 0, rejected: 0, reasons: new Map<string, number>() };
      rows.set(kind, row);

      // As `az ml <kind> create` loads it, and again with no kind given (detection alone): neither may crash.
      const outcome = await tryLoad(path, COMMAND_KIND[kind]);
      const undirected = await tryLoad(path, undefined);
      for (const o of [outcome, undirected]) {
        if (o.status === 'crashed')
          crashes.push(`${rel}: ${o.error instanceof Error ? (o.error.stack ?? o.error.message) : String(o.error)}`);
      }

      if (outcome.status === 'loaded') {
        row.loaded++;
        if (!SUPPORTED.has(kind)) unexpectedLoads.push(`${rel} (${kind}) loaded as ${outcome.kind}`);
      } else if (outcome.status === 'rejected') {
        row.rejected++;
        const error = outcome.error;
        const key = reason(error);
        row.reasons.set(key, (row.reasons.get(key) ?? 0) + 1);
        if (
          error.file !== path ||
          !error.message.startsWith(path) ||
          error.hint.trim() === '' ||
          error.problem.trim() === ''
        ) {
          imprecise.push(`${rel}: ${error.message}`);
        }
        const expected = EXPECTED_REJECTIONS[rel];
        if (expected !== undefined && expected.keyPath === error.keyPath) expectedSeen.add(rel);
        else if (SUPPORTED.has(kind)) unexpectedRejections.push(error.message.replace(CORPUS, ''));
      }
    }

    // The table: inventory kind → loaded / rejected, with the most common reasons.
    const table = [...rows.entries()].sort((a, b) => b[1].loaded + b[1].rejected - (a[1].loaded + a[1].rejected));
    const lines = [
      'Azure ML corpus conformance (files loaded as `az ml <kind> create` would):',
      `${'kind'.padEnd(58)} ${'files'.padStart(5)} ${'loaded'.padStart(6)} ${'rejected'.padStart(8)}  top rejection reasons`,
    ];
    let total = 0;
    let loadedTotal = 0;
    for (const [kind, row] of table) {
      const files = row.loaded + row.rejected;
      total += files;
      loadedTotal += row.loaded;
      const top = [...row.reasons.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([r, n]) => `${n}× ${r}`)
        .join(' | ');
      const label = `${SUPPORTED.has(kind) ? '✓' : ' '} ${kind}`;
      lines.push(
        `${label.slice(0, 58).padEnd(58)} ${String(files).padStart(5)} ${String(row.loaded).padStart(6)} ${String(row.rejected).padStart(8)}  ${top}`,
      );
    }
    lines.push(
      `${'total'.padEnd(58)} ${String(total).padStart(5)} ${String(loadedTotal).padStart(6)} ${String(total - loadedTotal).padStart(8)}`,
    );
    lines.push('(✓ = a kind Tessera supports: its files must load)');
    for (const line of lines) console.log(line);

    const assetRows = [...rows.entries()].filter(([kind]) => ASSET_KINDS.has(kind));
    const assetFiles = assetRows.reduce((n, [, r]) => n + r.loaded + r.rejected, 0);
    const assetLoaded = assetRows.reduce((n, [, r]) => n + r.loaded, 0);
    const share = assetFiles === 0 ? 0 : assetLoaded / assetFiles;
    console.log(
      `asset files (data, model, environment, component, datastore, compute): ${assetLoaded}/${assetFiles} loaded (${(share * 100).toFixed(1)}%)`,
    );
    t.diagnostic(`corpus: ${total} files, ${loadedTotal} loaded; asset files ${assetLoaded}/${assetFiles} loaded`);

    assert.deepEqual(crashes, [], 'no file may crash the loader');
    assert.deepEqual(imprecise, [], 'every rejection names the file, the key path and a reason');
    assert.deepEqual(unexpectedLoads, [], 'files of kinds Tessera does not support must be rejected');
    assert.deepEqual(
      unexpectedRejections,
      [],
      'files of supported kinds must load (or be listed in EXPECTED_REJECTIONS)',
    );
    assert.deepEqual(
      Object.keys(EXPECTED_REJECTIONS).filter((rel) => !expectedSeen.has(rel)),
      [],
      'each expected rejection happens, at its key path',
    );
    assert.ok(assetFiles >= 100, `expected the corpus to hold 100+ asset files, found ${assetFiles}`);
    assert.ok(share >= 0.95, `at least 95% of asset files must load; ${assetLoaded}/${assetFiles} did`);
    assert.ok(
      files.some((f) => basename(f) === 'MLTable'),
      'the corpus walk found MLTable files',
    );
  },
);

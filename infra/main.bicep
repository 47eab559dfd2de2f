// Tessera on Azure: the function app (Flex Consumption, Node 20) with its identity, host storage,
// Cosmos DB, Service Bus, Key Vault, Application Insights and the Container Apps environment for
// trainers. Deploy into an existing resource group (see README.md).
//
// The app settings written here are the keys of the config schema in shared/config.ts, so the
// deployed app reads exactly what `loadConfig` validates.
targetScope = 'resourceGroup'

@description('Short name used in every resource name: 2-10 letters or digits, starting with a letter (lower-cased).')
@minLength(2)
@maxLength(10)
param baseName string = 'tessera'

@description('Azure region for every resource. It must offer Flex Consumption, Cosmos DB serverless and Container Apps workload profiles, and the GPU profile type chosen below.')
param location string = resourceGroup().location

@description('Tags applied to every resource.')
param tags object = {
  application: 'tessera'
}

@description('Microsoft Entra tenant that issues tokens for the Tessera API (ENTRA_TENANT_ID). Defaults to the tenant of the deployment.')
param entraTenantId string = tenant().tenantId

@description('Audience of the Tessera API tokens: the application id URI or client id of its app registration (ENTRA_AUDIENCE), e.g. api://tessera.')
@minLength(1)
param entraAudience string

@description('Days the durable history of finished orchestrations is kept before housekeeping purges it (DURABLE_HISTORY_RETENTION_DAYS).')
@minValue(1)
@maxValue(3650)
param durableHistoryRetentionDays int = 30


@description('Cosmos DB containers to create in the tessera database, partitioned on /pk. The app signs in with Entra ID and cannot create containers itself, so this must list every container the services open.')
param cosmosContainerNames array = [
  'workspaces'
  'tokens'
  'uploadSessions'
  'assets'
  'mlflowRunInputs'
  'mlflowLoggedModels'
  'jobs'
  'endpoints'
  'trackingExperiments'
  'trackingRuns'
  'trackingMetricHistory'
]

@description('Blob containers to create for Tessera data (artifacts, snapshots, logs).')
param artifactContainerNames array = [
  'artifacts'
]

@description('Redundancy of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_LRS'

@description('Most instances the function app may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each function app instance in MB.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Dedicated workload profile type for CPU trainers, e.g. D4, D8, D16, D32, E4, E8, E16, E32.')
param cpuWorkloadProfileType string = 'D4'

@description('Most nodes of the CPU workload profile (it scales in to zero).')
@minValue(1)
param cpuWorkloadProfileMaxNodes int = 3

@description('GPU workload profile type for trainers: serverless (Consumption-GPU-NC8as-T4, Consumption-GPU-NC24-A100; need a quota request) or dedicated (NC24-A100, NC48-A100, NC96-A100).')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'NC24-A100'
  'NC48-A100'
  'NC96-A100'
])
param gpuWorkloadProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Most nodes of the GPU workload profile; used for dedicated GPU types only.')
@minValue(1)
param gpuWorkloadProfileMaxNodes int = 1

@description('Grant the function identity Contributor on this resource group. The compute adapter does not need it: the trainer jobs are deployed here and the identity gets Container Apps Jobs Operator on them.')
param grantComputeContributor bool = false

@description('Container image of the trainer, e.g. myregistry.azurecr.io/tessera-trainer:1.0.0. Its working directory must hold dist/trainer/main.js: the trainer jobs run `node dist/trainer/main.js`.')
@minLength(1)
param trainerImage string

@description('Login server of the registry the trainer image is pulled from with the trainer identity, e.g. myregistry.azurecr.io. Grant the trainer identity (output trainerIdentityId) AcrPull on it; this template does not. Empty for a public image.')
param trainerImageRegistry string = ''

@description('Deploy the GPU trainer job (on the gpu workload profile) and set TRAINER_GPU_JOB_NAME. Without it, jobs on GPU computes are refused with a message naming the setting.')
param deployGpuTrainerJob bool = true

@description('Workload profile of the CPU trainer job: Consumption (the replica sizes compute sizes are mapped to, see shared/adapters/README.md) or cpu (the dedicated profile).')
@allowed([
  'Consumption'
  'cpu'
])
param cpuTrainerWorkloadProfile string = 'Consumption'

@description('CPU cores of a CPU trainer whose compute names no size Tessera maps, as a string. On Consumption, memory must be 2 GiB per core.')
param cpuTrainerCpu string = '1'

@description('Memory of a CPU trainer whose compute names no size Tessera maps, e.g. 2Gi.')
param cpuTrainerMemory string = '2Gi'

@description('CPU cores of a GPU trainer, as a string; must fit the GPU workload profile (Consumption-GPU-NC8as-T4: 8 cores and 56 GiB).')
param gpuTrainerCpu string = '8'

@description('Memory of a GPU trainer; must fit the GPU workload profile.')
param gpuTrainerMemory string = '56Gi'

@description('Longest a trainer may run, in seconds, before Container Apps stops it. Keep it above the longest job timeout you use.')
@minValue(60)
param trainerReplicaTimeoutSeconds int = 86400

@description('Image that serves Python online deployments (POST /score on port 5001; see shared/adapters/README.md). Empty: Python deployments are refused on Azure, ONNX and JavaScript deployments still run in the function app.')
param pythonScoringImage string = ''

@description('Registry server of pythonScoringImage, pulled from with the trainer identity (grant it AcrPull yourself). Empty for a public image.')
param pythonScoringRegistry string = ''

@description('Turn on Key Vault purge protection. Recommended for production; it cannot be turned off again.')
param keyVaultPurgeProtection bool = true

var base = toLower(baseName)
var token = uniqueString(resourceGroup().id, base)
var cosmosDatabaseName = 'tessera'
var deploymentContainerName = 'app-package'

var names = {
  logAnalytics: 'log-${base}-${token}'
  appInsights: 'appi-${base}-${token}'
  storage: take('st${replace(base, '-', '')}${token}', 24)
  cosmos: 'cosmos-${base}-${token}'
  serviceBus: 'sb-${base}-${token}'
  keyVault: take('kv-${base}-${token}', 24)
  containerApps: 'cae-${base}-${token}'
  trainerIdentity: 'id-${base}-trainer-${token}'
  // Container Apps job names: at most 32 lower-case letters, digits and dashes.
  cpuTrainerJob: '${base}-trainer'
  gpuTrainerJob: '${base}-trainer-gpu'
  plan: 'plan-${base}-${token}'
  functionApp: 'func-${base}-${token}'
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    name: names.storage
    skuName: storageSku
    containerNames: concat(artifactContainerNames, array(deploymentContainerName))
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    location: location
    tags: tags
    name: names.cosmos
    databaseName: cosmosDatabaseName
    containerNames: cosmosContainerNames
    compositeIndexes: {
      tokens: [
        [
          {
            path: '/createdAt'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
      assets: [
        [
          {
            path: '/seq'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/name'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
      workspaces: [
        [
          {
            path: '/name'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
      mlflowLoggedModels: [
        [
          {
            path: '/creationTimestampMs'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/creationTimestampMs'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/lastUpdatedTimestampMs'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/lastUpdatedTimestampMs'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/name'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/name'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
      jobs: [
        [
          {
            path: '/createdAt'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
      // MLflow tracking (shared/contracts/tracking-documents.ts TRACKING_COSMOS_ORDERINGS)
      trackingExperiments: [
        [
          {
            path: '/creationTime'
            order: 'ascending'
          }
          {
            path: '/seq'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/creationTime'
            order: 'descending'
          }
          {
            path: '/seq'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/name'
            order: 'ascending'
          }
          {
            path: '/creationTime'
            order: 'descending'
          }
          {
            path: '/seq'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/name'
            order: 'descending'
          }
          {
            path: '/creationTime'
            order: 'descending'
          }
          {
            path: '/seq'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/lastUpdateTime'
            order: 'ascending'
          }
          {
            path: '/creationTime'
            order: 'descending'
          }
          {
            path: '/seq'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/lastUpdateTime'
            order: 'descending'
          }
          {
            path: '/creationTime'
            order: 'descending'
          }
          {
            path: '/seq'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
      trackingRuns: [
        [
          {
            path: '/startTime'
            order: 'ascending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/startTime'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/endTime'
            order: 'ascending'
          }
          {
            path: '/startTime'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/endTime'
            order: 'descending'
          }
          {
            path: '/startTime'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/status'
            order: 'ascending'
          }
          {
            path: '/startTime'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/status'
            order: 'descending'
          }
          {
            path: '/startTime'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/runName'
            order: 'ascending'
          }
          {
            path: '/startTime'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
        [
          {
            path: '/runName'
            order: 'descending'
          }
          {
            path: '/startTime'
            order: 'descending'
          }
          {
            path: '/id'
            order: 'ascending'
          }
        ]
      ]
    }
  }
}

module serviceBus 'modules/service-bus.bicep' = {
  name: 'service-bus'
  params: {
    location: location
    tags: tags
    name: names.serviceBus
    maxDeliveryCount: 10
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    location: location
    tags: tags
    name: names.keyVault
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

// Keys and value formats follow shared/config.ts; values are strings as app settings are.
// The store settings, shared by the function app and the trainer jobs.
var storeSettings = {
  TESSERA_STORE: 'azure'
  COSMOS_ENDPOINT: cosmos.outputs.endpoint
  COSMOS_DATABASE: cosmosDatabaseName
  BLOB_ACCOUNT_URL: storage.outputs.blobEndpoint
  SERVICEBUS_NAMESPACE: serviceBus.outputs.fullyQualifiedNamespace
  KEY_VAULT_URL: keyVault.outputs.vaultUri
}

module containerApps 'modules/container-apps.bicep' = {
  name: 'container-apps'
  params: {
    location: location
    tags: tags
    name: names.containerApps
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    trainerIdentityName: names.trainerIdentity
    cpuProfileType: cpuWorkloadProfileType
    cpuProfileMaxNodes: cpuWorkloadProfileMaxNodes
    gpuProfileType: gpuWorkloadProfileType
    gpuProfileMaxNodes: gpuWorkloadProfileMaxNodes
    trainerImage: trainerImage
    trainerImageRegistry: trainerImageRegistry
    trainerSettings: storeSettings
    cpuTrainerJobName: names.cpuTrainerJob
    gpuTrainerJobName: deployGpuTrainerJob ? names.gpuTrainerJob : ''
    cpuTrainerProfile: cpuTrainerWorkloadProfile
    cpuTrainerCpu: cpuTrainerCpu
    cpuTrainerMemory: cpuTrainerMemory
    gpuTrainerCpu: gpuTrainerCpu
    gpuTrainerMemory: gpuTrainerMemory
    trainerReplicaTimeoutSeconds: trainerReplicaTimeoutSeconds
  }
}

// The app's own settings, on top of the store settings.
var appSettings = {
  ENTRA_TENANT_ID: entraTenantId
  ENTRA_AUDIENCE: entraAudience
  DURABLE_HISTORY_RETENTION_DAYS: string(durableHistoryRetentionDays)
}

// The Container Apps compute (config.azure.containerApps): the trainer jobs deployed above, in this
// subscription and group. TRAINER_GPU_JOB_NAME only with the GPU job. The subscription, group and
// ARM endpoint also serve Python scoring below.
var containerAppsSettings = union(
  {
    CONTAINER_APPS_SUBSCRIPTION_ID: subscription().subscriptionId
    CONTAINER_APPS_RESOURCE_GROUP: resourceGroup().name
    CONTAINER_APPS_ARM_ENDPOINT: environment().resourceManager
    TRAINER_JOB_NAME: containerApps.outputs.cpuTrainerJobName
  },
  deployGpuTrainerJob ? { TRAINER_GPU_JOB_NAME: containerApps.outputs.gpuTrainerJobName } : {}
)

// Python online deployments: one Container App per endpoint in the trainers' environment, running
// as the trainer identity (it reads models and code from the storage account). Set only with an image.
var pythonScoringSettings = empty(pythonScoringImage)
  ? {}
  : union(
      {
        CONTAINER_APPS_ENVIRONMENT_ID: containerApps.outputs.environmentId
        PYTHON_SCORING_IMAGE: pythonScoringImage
        PYTHON_SCORING_IDENTITY_ID: containerApps.outputs.trainerIdentityId
        PYTHON_SCORING_IDENTITY_CLIENT_ID: containerApps.outputs.trainerIdentityClientId
      },
      empty(pythonScoringRegistry) ? {} : { PYTHON_SCORING_REGISTRY: pythonScoringRegistry }
    )

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    location: location
    tags: tags
    planName: names.plan
    appName: names.functionApp
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    tesseraSettings: union(storeSettings, appSettings, containerAppsSettings, pythonScoringSettings)
  }
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    functionPrincipalId: functionApp.outputs.principalId
    trainerPrincipalId: containerApps.outputs.trainerIdentityPrincipalId
    trainerIdentityName: containerApps.outputs.trainerIdentityName
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.name
    serviceBusName: serviceBus.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    grantComputeContributor: grantComputeContributor
    grantContainerAppsContributor: !empty(pythonScoringImage)
    cpuTrainerJobName: containerApps.outputs.cpuTrainerJobName
    gpuTrainerJobName: containerApps.outputs.gpuTrainerJobName
  }
}

output functionAppName string = functionApp.outputs.name
output apiBaseUrl string = 'https://${functionApp.outputs.defaultHostName}/api'
output cosmosEndpoint string = cosmos.outputs.endpoint
output blobAccountUrl string = storage.outputs.blobEndpoint
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output keyVaultUrl string = keyVault.outputs.vaultUri
output containerAppsEnvironmentId string = containerApps.outputs.environmentId
output trainerIdentityId string = containerApps.outputs.trainerIdentityId
output trainerIdentityClientId string = containerApps.outputs.trainerIdentityClientId
output trainerJobName string = containerApps.outputs.cpuTrainerJobName
output trainerGpuJobName string = containerApps.outputs.gpuTrainerJobName

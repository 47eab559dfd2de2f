// Container Apps environment where trainers run as jobs: the Consumption profile plus one CPU
// and one GPU workload profile, the user-assigned identity trainer jobs run as, and the two
// manual-trigger trainer jobs that the compute adapter (shared/adapters/container-apps-compute.ts)
// starts one execution of per job attempt.

@description('Azure region of the environment. GPU workload profiles exist in a subset of regions.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name of the Container Apps managed environment.')
param name string

@description('Name of the Log Analytics workspace that receives container logs.')
param logAnalyticsName string

@description('Name of the user-assigned identity that trainer jobs run as.')
param trainerIdentityName string

@description('Dedicated workload profile type for CPU trainers, e.g. D4, D8, D16, D32, E4, E8, E16, E32.')
param cpuProfileType string

@description('Most nodes the CPU profile may scale out to (it scales in to zero).')
@minValue(1)
param cpuProfileMaxNodes int

@description('GPU workload profile type: serverless (Consumption-GPU-NC8as-T4, Consumption-GPU-NC24-A100) or dedicated (NC24-A100, NC48-A100, NC96-A100). Serverless GPUs need a quota request.')
param gpuProfileType string

@description('Most nodes the GPU profile may scale out to; used for dedicated types only.')
@minValue(1)
param gpuProfileMaxNodes int

@description('Container image of the trainer, e.g. myregistry.azurecr.io/tessera-trainer:1.0.0. Its working directory must hold dist/trainer/main.js (the jobs run `node dist/trainer/main.js`).')
param trainerImage string

@description('Login server of the registry the trainer image is pulled from with the trainer identity, e.g. myregistry.azurecr.io (the identity needs AcrPull there; this template does not grant it). Empty for a public image.')
param trainerImageRegistry string

@description('Settings of the trainer container, named as the keys of the config schema (shared/config.ts), string values: the store settings of the function app.')
param trainerSettings object

@description('Name of the manual-trigger job for CPU trainers (the TRAINER_JOB_NAME app setting).')
param cpuTrainerJobName string

@description('Name of the manual-trigger job for GPU trainers (TRAINER_GPU_JOB_NAME); empty to deploy none.')
param gpuTrainerJobName string

@description('Workload profile of the CPU trainer job: Consumption (the replica sizes the adapter maps compute sizes to) or cpu (the dedicated profile above).')
@allowed([
  'Consumption'
  'cpu'
])
param cpuTrainerProfile string

@description('CPU cores of a CPU trainer whose compute names no size the adapter maps, as a string (e.g. \'1\' or \'0.5\'). On Consumption, memory must be 2 GiB per core.')
param cpuTrainerCpu string

@description('Memory of a CPU trainer whose compute names no size the adapter maps, e.g. 2Gi.')
param cpuTrainerMemory string

@description('CPU cores of a GPU trainer, as a string; must fit the GPU profile (Consumption-GPU-NC8as-T4: 8 cores, 56 GiB).')
param gpuTrainerCpu string

@description('Memory of a GPU trainer, e.g. 56Gi; must fit the GPU profile.')
param gpuTrainerMemory string

@description('Longest a trainer may run, in seconds; Container Apps stops the execution after that.')
@minValue(60)
param trainerReplicaTimeoutSeconds int

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

// Serverless (Consumption-*) profiles take no node counts; dedicated ones must have them.
var gpuIsServerless = startsWith(gpuProfileType, 'Consumption')
var gpuProfile = gpuIsServerless ? {
  name: 'gpu'
  workloadProfileType: gpuProfileType
} : {
  name: 'gpu'
  workloadProfileType: gpuProfileType
  minimumCount: 0
  maximumCount: gpuProfileMaxNodes
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
      {
        name: 'cpu'
        workloadProfileType: cpuProfileType
        minimumCount: 0
        maximumCount: cpuProfileMaxNodes
      }
      gpuProfile
    ]
  }
}

resource trainerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: trainerIdentityName
  location: location
  tags: tags
}

// The trainer container: the store settings of the function app, and the client id that makes
// DefaultAzureCredential sign in as the trainer identity (a user-assigned identity).
var trainerSettingsEnv = map(items(trainerSettings), setting => { name: setting.key, value: setting.value })
var trainerEnv = concat(trainerSettingsEnv, [{ name: 'AZURE_CLIENT_ID', value: trainerIdentity.properties.clientId }])

var trainerRegistries = empty(trainerImageRegistry) ? [] : [{ server: trainerImageRegistry, identity: trainerIdentity.id }]

// One replica per execution, no retries by Container Apps: a failed attempt is retried by Tessera,
// which starts a new execution with the next attempt number.
var trainerJobConfiguration = {
  triggerType: 'Manual'
  replicaTimeout: trainerReplicaTimeoutSeconds
  replicaRetryLimit: 0
  manualTriggerConfig: {
    parallelism: 1
    replicaCompletionCount: 1
  }
  registries: trainerRegistries
}

// The container is named 'trainer': the adapter adds the launch variables to the container of that name.
resource cpuTrainerJob 'Microsoft.App/jobs@2024-03-01' = {
  name: cpuTrainerJobName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${trainerIdentity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: cpuTrainerProfile
    configuration: trainerJobConfiguration
    template: {
      containers: [
        {
          name: 'trainer'
          image: trainerImage
          command: [
            'node'
            'dist/trainer/main.js'
          ]
          env: trainerEnv
          resources: {
            cpu: json(cpuTrainerCpu)
            memory: cpuTrainerMemory
          }
        }
      ]
    }
  }
}

resource gpuTrainerJob 'Microsoft.App/jobs@2024-03-01' = if (!empty(gpuTrainerJobName)) {
  name: empty(gpuTrainerJobName) ? 'unused' : gpuTrainerJobName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${trainerIdentity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'gpu'
    configuration: trainerJobConfiguration
    template: {
      containers: [
        {
          name: 'trainer'
          image: trainerImage
          command: [
            'node'
            'dist/trainer/main.js'
          ]
          env: trainerEnv
          resources: {
            cpu: json(gpuTrainerCpu)
            memory: gpuTrainerMemory
          }
        }
      ]
    }
  }
}

output environmentId string = environment.id
output environmentName string = environment.name
output cpuProfileName string = 'cpu'
output gpuProfileName string = 'gpu'
output trainerIdentityId string = trainerIdentity.id
output trainerIdentityName string = trainerIdentity.name
output trainerIdentityClientId string = trainerIdentity.properties.clientId
output trainerIdentityPrincipalId string = trainerIdentity.properties.principalId
output cpuTrainerJobName string = cpuTrainerJob.name
// Empty when no GPU job is deployed (the app setting is then unset, and GPU computes are refused).
output gpuTrainerJobName string = gpuTrainerJobName

// Container Apps environment where trainers run as jobs: the Consumption profile plus one CPU
// and one GPU workload profile, and the user-assigned identity trainer jobs run as.

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

output environmentId string = environment.id
output environmentName string = environment.name
output cpuProfileName string = 'cpu'
output gpuProfileName string = 'gpu'
output trainerIdentityId string = trainerIdentity.id
output trainerIdentityName string = trainerIdentity.name
output trainerIdentityClientId string = trainerIdentity.properties.clientId
output trainerIdentityPrincipalId string = trainerIdentity.properties.principalId

// Azure RBAC for the function app's system-assigned identity and for the trainer identity.
// Assignment names are guid(scope, principal, role), so redeploying is idempotent.

@description('Principal (object) id of the function app\'s system-assigned identity.')
param functionPrincipalId string

@description('Principal (object) id of the user-assigned identity trainer jobs run as.')
param trainerPrincipalId string

@description('Name of the user-assigned identity trainer jobs run as.')
param trainerIdentityName string

@description('Name of the storage account (host storage, durable task hub, artifacts).')
param storageAccountName string

@description('Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Name of the Service Bus namespace.')
param serviceBusName string

@description('Name of the Key Vault.')
param keyVaultName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Grant the function identity Contributor on the resource group. The compute adapter does not need it (it has Container Apps Jobs Operator on the trainer jobs); kept for deployments that relied on it.')
param grantComputeContributor bool

@description('Grant the function identity Container Apps Contributor on the resource group, to create, update and delete the Container Apps of Python online deployments.')
param grantContainerAppsContributor bool = false

@description('Name of the Container Apps job for CPU trainers.')
param cpuTrainerJobName string

@description('Name of the Container Apps job for GPU trainers; empty when none is deployed.')
param gpuTrainerJobName string

var role = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2552ae39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830'
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'
  // Read, start and stop Container Apps jobs and their executions.
  containerAppsJobsOperator: 'b9a307c4-5aa3-4b52-ba60-2b17c136cd7b'
  // Create, update and delete Container Apps (Python online deployments) and their revisions.
  containerAppsContributor: '358470bc-b998-42bd-ab17-a7e34c199c0f'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

// Cosmos DB Built-in Data Contributor (a data-plane role, not an Azure RBAC role).
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' existing = {
  name: cosmosAccountName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource trainerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: trainerIdentityName
}

var trainerJobNames = filter([cpuTrainerJobName, gpuTrainerJobName], jobName => !empty(jobName))

resource trainerJobs 'Microsoft.App/jobs@2024-03-01' existing = [
  for jobName in trainerJobNames: {
    name: jobName
  }
]

// Host storage with an identity: Blob Data Owner (host leases, deployment package, artifacts),
// Queue and Table Data Contributor (durable task hub).
var functionStorageRoles = [
  role.storageBlobDataOwner
  role.storageQueueDataContributor
  role.storageTableDataContributor
]

resource functionStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in functionStorageRoles: {
    name: guid(storage.id, functionPrincipalId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: functionPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

var functionServiceBusRoles = [
  role.serviceBusDataSender
  role.serviceBusDataReceiver
]

resource functionServiceBus 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in functionServiceBusRoles: {
    name: guid(serviceBus.id, functionPrincipalId, roleId)
    scope: serviceBus
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: functionPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Datastore secrets are written as well as read.
resource functionKeyVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, functionPrincipalId, role.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.keyVaultSecretsOfficer)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Application Insights has local auth off; telemetry is sent with the identity.
resource functionTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionPrincipalId, role.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.monitoringMetricsPublisher)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionCosmos 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmos
  name: guid(cosmos.id, functionPrincipalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: functionPrincipalId
    scope: cosmos.id
  }
}

// The compute adapter reads the trainer jobs, starts executions of them and stops those, scoped to
// each job: the identity cannot start or change anything else.
resource functionOperatesTrainerJobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(trainerJobNames)): {
    name: guid(trainerJobs[i].id, functionPrincipalId, role.containerAppsJobsOperator)
    scope: trainerJobs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.containerAppsJobsOperator)
      principalId: functionPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Creating a Container Apps job that runs as the trainer identity needs the right to assign it.
// The jobs are now created by this template, so the app itself may no longer need this.
resource functionAssignsTrainerIdentity 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(trainerIdentity.id, functionPrincipalId, role.managedIdentityOperator)
  scope: trainerIdentity
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.managedIdentityOperator)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Python online deployments: one Container App per endpoint in this group, made and changed by the app.
resource functionHostsPythonDeployments 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantContainerAppsContributor) {
  name: guid(resourceGroup().id, functionPrincipalId, role.containerAppsContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.containerAppsContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionCompute 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantComputeContributor) {
  name: guid(resourceGroup().id, functionPrincipalId, role.contributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.contributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Trainers read inputs and write outputs, logs and metrics as blobs, and report completion on
// Service Bus.
resource trainerStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, trainerPrincipalId, role.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.storageBlobDataContributor)
    principalId: trainerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Trainers read the job and its assets from Cosmos DB with the same store code as the app, so they
// get the app's data role (Cosmos DB Built-in Data Reader, 00000000-0000-0000-0000-000000000001,
// is enough if the trainer never writes). Cosmos applies one role assignment at a time, so this
// one waits for the function app's.
resource trainerCosmos 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmos
  name: guid(cosmos.id, trainerPrincipalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: trainerPrincipalId
    scope: cosmos.id
  }
  dependsOn: [
    functionCosmos
  ]
}

// Datastore credentials of user-registered datastores, which the trainer reads its inputs with.
resource trainerKeyVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, trainerPrincipalId, role.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.keyVaultSecretsUser)
    principalId: trainerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource trainerServiceBus 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, trainerPrincipalId, role.serviceBusDataSender)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.serviceBusDataSender)
    principalId: trainerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

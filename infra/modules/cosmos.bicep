// Cosmos DB for NoSQL, serverless, Entra ID only (no account keys). The database and its
// containers are created here because data-plane RBAC cannot create them from the app.

@description('Azure region of the Cosmos DB account.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Cosmos DB account name: 3-44 lowercase letters, digits and hyphens, globally unique.')
@minLength(3)
@maxLength(44)
param name string

@description('Name of the SQL database (COSMOS_DATABASE).')
param databaseName string

@description('Containers to create in the database. Every Tessera document carries its partition key in the pk property.')
param containerNames array

@description('Composite indexes by container name, as Cosmos index paths: the sort orders of shared/wiring.ts COSMOS_ORDERINGS, each followed by /id ascending (the adapter\'s tie-breaker).')
param compositeIndexes object = {}

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [
  for containerName in containerNames: {
    parent: database
    name: containerName
    properties: {
      resource: {
        id: containerName
        partitionKey: {
          paths: [
            '/pk'
          ]
          kind: 'Hash'
          version: 2
        }
        indexingPolicy: {
          indexingMode: 'consistent'
          automatic: true
          includedPaths: [
            {
              path: '/*'
            }
          ]
          compositeIndexes: contains(compositeIndexes, containerName) ? compositeIndexes[containerName] : []
        }
      }
    }
  }
]

output name string = account.name
output endpoint string = account.properties.documentEndpoint

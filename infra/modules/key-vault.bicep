// Key Vault for datastore secrets, authorised with Azure RBAC (no access policies).

@description('Azure region of the vault.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Vault name: 3-24 letters, digits and hyphens, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Turn on purge protection. It cannot be turned off again, and a purged name stays reserved for the retention period.')
param enablePurgeProtection bool

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // The property may only be omitted or true.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri

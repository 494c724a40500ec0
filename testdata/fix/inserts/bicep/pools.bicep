// The inserts `check --fix` makes in Bicep: the task's image appended to each prefetch list in the
// list's own layout, the container type and the node agent added; the pool whose list is a
// variable is left alone.
param batchAccountName string

var images = [
  'python:3.12-slim'
]

resource batchAccount 'Microsoft.Batch/batchAccounts@2025-06-01' existing = {
  name: batchAccountName
}

resource lines 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  parent: batchAccount
  name: 'lines'
  properties: {
    vmSize: 'Standard_D4s_v5'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'microsoft-dsvm'
          offer: 'ubuntu-hpc'
          sku: '2404'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
        containerConfiguration: {
          containerImageNames: [
            'python:3.12-slim' // the base image
          ]
        }
      }
    }
  }
}

resource inline 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  parent: batchAccount
  name: 'inline'
  properties: {
    vmSize: 'Standard_D4s_v5'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'microsoft-dsvm'
          offer: 'ubuntu-hpc'
          sku: '2404'
        }
        containerConfiguration: {
          type: 'DockerCompatible'
          containerImageNames: ['python:3.12-slim']
        }
      }
    }
  }
}

resource fromVar 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  parent: batchAccount
  name: 'from-var'
  properties: {
    vmSize: 'Standard_D4s_v5'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'microsoft-dsvm'
          offer: 'ubuntu-hpc'
          sku: '2404'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
        containerConfiguration: {
          type: 'DockerCompatible'
          containerImageNames: images
        }
      }
    }
  }
}

// Every pool rule that a Bicep pool can trip, for the reader's tests.
param batchAccountName string
param size string = 'Standard_A0'
@secure()
param acrPassword string
param deployGpu bool

var registry = 'myacr.azurecr.io'
var images = [
  '${registry}/render'
  'index.docker.io/library/ubuntu:24.04'
]

resource batchAccount 'Microsoft.Batch/batchAccounts@2025-06-01' existing = {
  name: batchAccountName
}

resource render 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  parent: batchAccount
  name: 'render'
  properties: {
    vmSize: size
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'microsoft-azure-batch'
          offer: 'ubuntu-server-container'
          sku: '20-04-lts'
          version: 'latest'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 20.04'
        containerConfiguration: {
          type: 'Docker'
          containerImageNames: images
          containerRegistries: [
            {
              registryServer: 'MyAcr'
              username: 'acr'
              password: acrPassword
            }
          ]
        }
      }
    }
    scaleSettings: {
      fixedScale: {
        targetDedicatedNodes: 3
      }
    }
    startTask: {
      commandLine: 'docker daemon -g /mnt/docker'
      userIdentity: {
        autoUser: {
          scope: 'Pool'
          elevationLevel: 'Admin'
        }
      }
      waitForSuccess: true
    }
  }
}

resource gpu 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = if (deployGpu) {
  parent: batchAccount
  name: 'gpu'
  properties: {
    vmSize: 'Standard_D4s_v5'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'microsoft-dsvm'
          offer: 'ubuntu-hpc'
          sku: '2204'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
        containerConfiguration: {
          containerImageNames: [
            'python:3.12-slim'
          ]
        }
      }
    }
  }
}

resource plain 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = [for name in ['a', 'b']: {
  parent: batchAccount
  name: 'plain-${name}'
  properties: {
    vmSize: 'Standard_NC4as_T4_v3'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'canonical'
          offer: 'ubuntu-24_04-lts'
          sku: 'server'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
        containerConfiguration: {
          type: 'DockerCompatible'
          containerImageNames: [
            'ghcr.io/acme/tool:${uniqueString(name)}'
          ]
        }
      }
    }
  }
}]

resource ib 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  parent: batchAccount
  name: 'ib'
  properties: {
    vmSize: 'Standard_D4s_v3'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'microsoft-dsvm'
          offer: 'ubuntu-hpc-rdma'
          sku: '2404'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
        containerConfiguration: {
          type: 'DockerCompatible'
          containerImageNames: [
            'ghcr.io/acme/solver:2.0'
          ]
        }
      }
    }
  }
}

// V100 GPUs on the 24.04 HPC image, which does not drive them; a registry host in upper case.
resource v100 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  parent: batchAccount
  name: 'v100'
  properties: {
    vmSize: 'Standard_NC6s_v3'
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
          containerImageNames: [
            'MyAcr.azurecr.io/cuda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
          ]
        }
      }
    }
  }
}

// An Arm64 (Cobalt 100) size with the amd64 build of Ubuntu 24.04.
resource cobalt 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  parent: batchAccount
  name: 'cobalt'
  properties: {
    vmSize: 'Standard_D4ps_v6'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'canonical'
          offer: 'ubuntu-24_04-lts'
          sku: 'server'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
      }
    }
  }
}

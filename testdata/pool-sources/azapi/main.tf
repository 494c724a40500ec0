# A pool written with the AzAPI provider: the ARM resource body, as an HCL object (azapi 2.x).
resource "azapi_resource" "ib" {
  type      = "Microsoft.Batch/batchAccounts/pools@2024-07-01"
  parent_id = azapi_resource.account.id
  name      = "ib"

  body = {
    properties = {
      vmSize = "Standard_D4s_v3"
      deploymentConfiguration = {
        virtualMachineConfiguration = {
          imageReference = {
            publisher = "microsoft-dsvm"
            offer     = "ubuntu-hpc-rdma"
            sku       = "2404"
          }
          nodeAgentSkuId = "batch.node.ubuntu 24.04"
          containerConfiguration = {
            type                = "dockerCompatible"
            containerImageNames = ["docker.io/acme/solver:2.0"]
            containerRegistries = [
              {
                registryServer = "https://hub.docker.com"
                username       = "acme"
              },
            ]
          }
        }
      }
      scaleSettings = {
        fixedScale = {
          targetDedicatedNodes = 2
        }
      }
    }
  }
}

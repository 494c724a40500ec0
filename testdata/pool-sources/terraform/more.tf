# Pools in a second file of the same module: the directory is read as one module.
resource "azurerm_batch_pool" "hpc" {
  name                = "hpc"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = "Standard_D4s_v5"
  node_agent_sku_id   = "batch.node.ubuntu 24.04"

  storage_image_reference {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }

  auto_scale {
    evaluation_interval = "PT5M"
    formula             = "$TargetDedicatedNodes = 1;"
  }

  container_configuration {
    container_image_names = ["python:3.12-slim"]
  }
}

resource "azurerm_batch_pool" "plain" {
  name                = "plain-${var.vm_size}"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = "Standard_NC4as_T4_v3"
  node_agent_sku_id   = "batch.node.ubuntu 24.04"

  storage_image_reference {
    publisher = "canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }

  fixed_scale {}

  container_configuration {
    type                  = "DockerCompatible"
    container_image_names = [format("%s/app:1", local.registry), "microsoft-azure-batch/ok@sha256:0000000000000000000000000000000000000000000000000000000000000000"]
  }

  start_task {
    command_line = "echo hi"
    user_identity {
      auto_user {
        scope = "Pool"
      }
    }
  }
}

# V100 GPUs on the 24.04 HPC image, which does not drive them; a registry host in upper case.
resource "azurerm_batch_pool" "v100" {
  name                = "v100"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = "Standard_NC6s_v3"
  node_agent_sku_id   = "batch.node.ubuntu 24.04"

  storage_image_reference {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2404"
    version   = "latest"
  }

  fixed_scale {}

  container_configuration {
    type                  = "DockerCompatible"
    container_image_names = ["MyAcr.azurecr.io/cuda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]
  }
}

# An Arm64 (Cobalt 100) size with the amd64 build of Ubuntu 24.04.
resource "azurerm_batch_pool" "cobalt" {
  name                = "cobalt"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = "Standard_D4ps_v6"
  node_agent_sku_id   = "batch.node.ubuntu 24.04"

  storage_image_reference {
    publisher = "canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }

  fixed_scale {}
}

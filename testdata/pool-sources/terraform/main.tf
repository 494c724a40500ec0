# Every pool rule that a Terraform pool can trip, for the reader's tests.
variable "vm_size" {
  type    = string
  default = "Standard_A0"
}

variable "acr_password" {
  type      = string
  sensitive = true
}

locals {
  registry = "myacr.azurecr.io"
}

resource "azurerm_user_assigned_identity" "pull" {
  name                = "pull"
  location            = "westeurope"
  resource_group_name = "rg"
}

resource "azurerm_batch_pool" "render" {
  name                = "render"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = var.vm_size
  node_agent_sku_id   = "batch.node.ubuntu 20.04"

  storage_image_reference {
    publisher = "microsoft-azure-batch"
    offer     = "ubuntu-server-container"
    sku       = "20-04-lts"
    version   = "latest"
  }

  fixed_scale {
    target_dedicated_nodes = 3
  }

  container_configuration {
    type                  = "docker"
    container_image_names = ["${local.registry}/render", "ghcr.io/acme/tool:1.0", "index.docker.io/library/ubuntu:24.04"]

    container_registries {
      registry_server = "MyAcr"
      user_name       = "acr"
      password        = var.acr_password
    }

    container_registries {
      registry_server           = "other.azurecr.io"
      user_assigned_identity_id = azurerm_user_assigned_identity.pull.id
    }
  }

  start_task {
    command_line = "docker daemon -g /mnt/docker"

    user_identity {
      auto_user {
        elevation_level = "Admin"
      }
    }
  }
}

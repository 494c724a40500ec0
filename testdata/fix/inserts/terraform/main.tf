# The inserts `check --fix` makes in Terraform: the task's image appended to each prefetch list in
# the list's own layout, the container type and the node agent added; the pool whose list is a
# variable is left alone.
variable "images" {
  type    = list(string)
  default = ["python:3.12-slim"]
}

resource "azurerm_batch_pool" "lines" {
  name                = "lines"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = "Standard_D4s_v5"
  node_agent_sku_id   = "batch.node.ubuntu 24.04"

  storage_image_reference {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2404"
    version   = "latest"
  }

  fixed_scale {
    target_dedicated_nodes = 1
  }

  container_configuration {
    container_image_names = [
      "python:3.12-slim", # the base image
    ]
  }
}

resource "azurerm_batch_pool" "inline" {
  name                = "inline"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = "Standard_D4s_v5"

  storage_image_reference {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2404"
    version   = "latest"
  }

  fixed_scale {}

  container_configuration {
    type                  = "DockerCompatible"
    container_image_names = ["python:3.12-slim"]
  }
}

resource "azurerm_batch_pool" "from_var" {
  name                = "from-var"
  resource_group_name = "rg"
  account_name        = "acct"
  vm_size             = "Standard_D4s_v5"
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
    container_image_names = var.images
  }
}

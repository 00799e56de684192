terraform {
  required_version = ">= 1.5.0"

  required_providers {
    linode = {
      source  = "linode/linode"
      version = "~> 3.0"
    }
  }
}

# The token comes from the LINODE_TOKEN environment variable (never from a file in the repo).
provider "linode" {}

variable "label" {
  description = "Name of the installation: prefixes the cluster, the database and the firewall."
  type        = string
  default     = "ias"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.label))
    error_message = "The label must be 3-32 characters of lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "region" {
  description = "Linode region for the cluster and the database, e.g. us-ord or de-fra-2; pick one with GPU plans if you want GPU nodes."
  type        = string
  default     = "us-ord"

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]+(-[0-9]+)?$", var.region))
    error_message = "The region must be a Linode region id such as us-ord or de-fra-2."
  }
}

variable "k8s_version" {
  description = "Kubernetes version of the LKE cluster (major.minor)."
  type        = string
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.k8s_version))
    error_message = "The Kubernetes version must look like 1.33."
  }
}

variable "high_availability" {
  description = "Run the cluster's control plane highly available (recommended for production)."
  type        = bool
  default     = true
}

variable "cpu_pool" {
  description = "The CPU node pool for the IAS processes (router, control plane, ledger) and the ingress controller."
  type = object({
    type      = string
    min_nodes = number
    max_nodes = number
  })
  default = {
    type      = "g6-standard-4"
    min_nodes = 3
    max_nodes = 6
  }

  validation {
    condition     = var.cpu_pool.min_nodes >= 1 && var.cpu_pool.max_nodes >= var.cpu_pool.min_nodes
    error_message = "The CPU pool needs at least one node and max_nodes >= min_nodes."
  }
}

variable "gpu_pool" {
  description = "The GPU node pool for vLLM, tainted nvidia.com/gpu=present:NoSchedule so only GPU work lands there. Set min_nodes and max_nodes to 0 to create none."
  type = object({
    type      = string
    min_nodes = number
    max_nodes = number
  })
  default = {
    type      = "g2-gpu-rtx4000a1-m"
    min_nodes = 1
    max_nodes = 2
  }

  validation {
    condition     = var.gpu_pool.min_nodes >= 0 && var.gpu_pool.max_nodes >= var.gpu_pool.min_nodes
    error_message = "The GPU pool needs min_nodes >= 0 and max_nodes >= min_nodes."
  }
}

variable "database_type" {
  description = "Linode plan of the managed PostgreSQL nodes."
  type        = string
  default     = "g6-standard-2"
}

variable "database_cluster_size" {
  description = "Nodes of the managed PostgreSQL cluster: 1, or 3 for a highly available one."
  type        = number
  default     = 3

  validation {
    condition     = contains([1, 3], var.database_cluster_size)
    error_message = "The database cluster size must be 1 or 3."
  }
}

variable "database_engine" {
  description = "Managed PostgreSQL engine id (IAS needs PostgreSQL 15 or newer)."
  type        = string
  default     = "postgresql/16"

  validation {
    condition     = can(regex("^postgresql/(1[5-9]|[2-9][0-9])$", var.database_engine))
    error_message = "IAS needs PostgreSQL 15 or newer: use postgresql/15, postgresql/16, ..."
  }
}

variable "database_allow_list" {
  description = "Extra CIDRs allowed to reach the database besides the cluster's nodes (e.g. your workstation for psql). Keep it short."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.database_allow_list : can(cidrhost(cidr, 0))])
    error_message = "Every database_allow_list entry must be a CIDR such as 203.0.113.7/32."
  }
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach the nodes' NodePorts directly for debugging; empty allows only Linode NodeBalancers."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.admin_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every admin_cidrs entry must be a CIDR such as 203.0.113.7/32."
  }
}

variable "tags" {
  description = "Tags put on every resource."
  type        = list(string)
  default     = ["ias"]
}

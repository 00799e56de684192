# An LKE cluster with a CPU pool and a GPU pool, a managed PostgreSQL reachable only from the
# cluster's nodes (and database_allow_list), and a firewall on the nodes.

locals {
  gpu_pool_enabled = var.gpu_pool.max_nodes > 0
  node_ids = flatten([
    for pool in linode_lke_cluster.this.pool : [for node in pool.nodes : node.instance_id]
  ])
  # LKE's control plane reaches the nodes from this range; NodeBalancers from the next one.
  lke_control_plane_cidr = "192.168.128.0/17"
  nodebalancer_cidr      = "192.168.255.0/24"
}

resource "linode_lke_cluster" "this" {
  label       = var.label
  k8s_version = var.k8s_version
  region      = var.region
  tags        = var.tags

  control_plane {
    high_availability = var.high_availability
  }

  pool {
    type  = var.cpu_pool.type
    count = var.cpu_pool.min_nodes
    tags  = concat(var.tags, ["cpu"])

    autoscaler {
      min = var.cpu_pool.min_nodes
      max = var.cpu_pool.max_nodes
    }
  }

  dynamic "pool" {
    for_each = local.gpu_pool_enabled ? [var.gpu_pool] : []
    content {
      type  = pool.value.type
      count = max(pool.value.min_nodes, 1)
      tags  = concat(var.tags, ["gpu"])

      labels = {
        "ias.dev/pool" = "gpu"
      }

      taint {
        effect = "NoSchedule"
        key    = "nvidia.com/gpu"
        value  = "present"
      }

      autoscaler {
        min = max(pool.value.min_nodes, 1)
        max = pool.value.max_nodes
      }
    }
  }

  # The autoscaler owns the node counts once the cluster exists.
  lifecycle {
    ignore_changes = [pool[0].count, pool[1].count]
  }
}

data "linode_instances" "nodes" {
  filter {
    name   = "id"
    values = local.node_ids
  }
}

resource "linode_database_postgresql_v2" "this" {
  label        = "${var.label}-db"
  engine_id    = var.database_engine
  region       = var.region
  type         = var.database_type
  cluster_size = var.database_cluster_size

  # Only the cluster's nodes (and the extra CIDRs) may connect; nodes added later by the
  # autoscaler are added on the next `terraform apply`.
  allow_list = distinct(concat(
    [for instance in data.linode_instances.nodes.instances : "${instance.ip_address}/32"],
    var.database_allow_list,
  ))
}

resource "linode_firewall" "nodes" {
  # checkov:skip=CKV_LIN_6:Nodes pull images and model weights and reach the managed database, so outbound stays open.
  label           = "${var.label}-nodes"
  tags            = var.tags
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"

  inbound {
    label    = "lke-kubelet-wireguard"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "10250,10256"
    ipv4     = [local.lke_control_plane_cidr]
  }

  inbound {
    label    = "lke-calico-wireguard"
    action   = "ACCEPT"
    protocol = "UDP"
    ports    = "51820"
    ipv4     = [local.lke_control_plane_cidr]
  }

  inbound {
    label    = "lke-calico-bgp"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "179"
    ipv4     = [local.lke_control_plane_cidr]
  }

  inbound {
    label    = "lke-ipencap"
    action   = "ACCEPT"
    protocol = "IPENCAP"
    ipv4     = [local.lke_control_plane_cidr]
  }

  inbound {
    label    = "nodebalancer-nodeports-tcp"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "30000-32767"
    ipv4     = concat([local.nodebalancer_cidr], var.admin_cidrs)
  }

  inbound {
    label    = "nodebalancer-nodeports-udp"
    action   = "ACCEPT"
    protocol = "UDP"
    ports    = "30000-32767"
    ipv4     = concat([local.nodebalancer_cidr], var.admin_cidrs)
  }

  linodes = local.node_ids
}

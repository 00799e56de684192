output "cluster_id" {
  description = "ID of the LKE cluster."
  value       = linode_lke_cluster.this.id
}

output "api_endpoints" {
  description = "The cluster's Kubernetes API endpoints."
  value       = linode_lke_cluster.this.api_endpoints
}

output "kubeconfig" {
  description = "kubeconfig of the cluster (YAML). Save it with: terraform output -raw kubeconfig > ~/.kube/ias.yaml"
  value       = base64decode(linode_lke_cluster.this.kubeconfig)
  sensitive   = true
}

output "database_host" {
  description = "Primary host of the managed PostgreSQL."
  value       = linode_database_postgresql_v2.this.host_primary
}

output "database_url" {
  description = "PostgreSQL URL for IAS_DATABASE_URL (the chart's secrets.databaseUrl), TLS required. Create the ias database first (docs/deploy.md)."
  value       = "postgresql://${linode_database_postgresql_v2.this.root_username}:${urlencode(linode_database_postgresql_v2.this.root_password)}@${linode_database_postgresql_v2.this.host_primary}:${linode_database_postgresql_v2.this.port}/ias?ssl=require"
  sensitive   = true
}

output "database_ca_certificate" {
  description = "CA certificate of the managed PostgreSQL (PEM), to verify its TLS certificate."
  value       = base64decode(linode_database_postgresql_v2.this.ca_cert)
  sensitive   = true
}

output "node_firewall_id" {
  description = "ID of the firewall on the cluster's nodes."
  value       = linode_firewall.nodes.id
}

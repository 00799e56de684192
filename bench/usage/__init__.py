"""The usage pipeline benchmark: ingest throughput and freshness (see bench/README.md)."""

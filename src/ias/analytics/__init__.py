"""Usage analytics: the ledger consumer, rollups and usage queries (`ias serve analytics`)."""

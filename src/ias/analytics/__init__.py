"""Usage analytics: the ledger (`ledger.py`, rollups in `rollups.py`), its RabbitMQ consumer
(`consumer.py`) and upkeep (`maintenance.py`) run by `ias worker usage` (`worker.py`), and the
usage queries (`ias serve analytics`)."""

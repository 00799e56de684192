"""The router benchmark: what the IAS router adds to talking to a backend directly.

Run it with `python -m bench.router` from the repository root (see `bench/README.md`). The
pure pieces (`stats`, `summary`, `report`) import nothing heavy, so unit tests can use them.
"""

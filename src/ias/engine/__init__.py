"""The built-in vLLM look-alike engine (`ias serve mock-engine` and the demo models)."""

from ias.engine.app import EngineApp, create_engine_app
from ias.engine.config import EngineConfig, EngineModel, demo_config
from ias.engine.tokenlog import RequestStatus, TokenLog, TokenRecord

__all__ = [
    "EngineApp",
    "EngineConfig",
    "EngineModel",
    "RequestStatus",
    "TokenLog",
    "TokenRecord",
    "create_engine_app",
    "demo_config",
]

"""Write the control plane's OpenAPI document (`/api/openapi.json`) to `web/openapi.json`.

The portal's typed client is generated from this file (`make web-client`), and a unit test
fails when it differs from what the code describes now. The output is deterministic: sorted
keys, two-space indent, a final newline. Nothing is opened or connected to build it.

    python scripts/export_openapi.py [--output PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "web" / "openapi.json"
# Any value of the right length: the document does not depend on it, nothing is signed.
_PLACEHOLDER_SECRET = "openapi-export-" + "0" * 32


def control_openapi() -> dict[str, Any]:
    """The document `/api/openapi.json` serves, built without a database or any secret."""
    from pydantic import SecretStr

    from ias.control.api import create_control_api
    from ias.control.context import build_control_context
    from ias.kit.db import Database
    from ias.kit.notify import MemoryNotifier
    from ias.kit.throttle import MemoryThrottle
    from ias.settings import SECRET_NAMES, Settings

    settings = Settings(**{name: SecretStr(_PLACEHOLDER_SECRET) for name in SECRET_NAMES})
    db = Database.from_url("sqlite+aiosqlite://")
    context = build_control_context(settings, db, MemoryNotifier(), MemoryThrottle())
    return create_control_api(context).openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the file differs instead of writing it"
    )
    args = parser.parse_args(argv)
    text = render(control_openapi())
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{output} is out of date: run `make web-client`", file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

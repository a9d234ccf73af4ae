"""The router's HTTP contract as a file: `python -m tools.openapi` writes docs/openapi.json
from the app's own OpenAPI document; `--check` exits 1 when the file has drifted from the
code (a unit test runs the check)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from services.router.app import create_app
from services.router.settings import RouterSettings

FILE = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def rendered() -> str:
    app = create_app(RouterSettings(env="dev"))  # no service is started: the routes only
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def drifted() -> bool:
    return not FILE.exists() or FILE.read_text() != rendered()


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if drifted():
            print(f"{FILE} is stale: run `python -m tools.openapi`")
            return 1
        return 0
    FILE.write_text(rendered())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A real OpenID Connect provider for the sign-on tests: panva's oidc-provider (Node.js,
tests/oidc, installed by `make install`) with its development sign-in pages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .tools import require, under_ci

HOME = Path(__file__).resolve().parents[1] / "oidc"


@contextlib.asynccontextmanager
async def oidc_provider(port: int, client: dict, accounts: dict[str, dict]) -> AsyncIterator[str]:
    """The provider on `port` knowing one client and these accounts ({login: claims});
    yields its issuer URL."""
    node = require("node", "nodejs")
    if not (HOME / "node_modules" / "oidc-provider").is_dir():
        message = "tests/oidc/node_modules is missing: run `make install` (npm ci)"
        pytest.fail(message, pytrace=False) if under_ci() else pytest.skip(message)
    env = {"PATH": "/usr/bin:/bin", "OIDC_CLIENT": json.dumps(client), "OIDC_ACCOUNTS": json.dumps(accounts)}
    proc = await asyncio.create_subprocess_exec(node, str(HOME / "provider.mjs"), str(port), cwd=HOME, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        lines = []
        async with asyncio.timeout(30):
            while (line := (await proc.stdout.readline()).decode()) != "ready\n":
                lines.append(line)
                if not line:
                    raise RuntimeError("the OIDC provider did not start:\n" + "".join(lines))
        drain = asyncio.create_task(proc.stdout.read())  # its log must not fill the pipe
        yield f"http://127.0.0.1:{port}"
        drain.cancel()
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()

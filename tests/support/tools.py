"""Real clients the tests drive. Missing one skips locally but fails under CI=true:
CI must never go green by skipping."""

import os
import shutil

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(name: str, package: str) -> str:
    """The path of the program `name` (a command or an absolute path)."""
    found = shutil.which(name) or next((p for p in (name, f"/usr/sbin/{name}") if os.path.isfile(p)), None)
    if found:
        return found
    message = f"{name} is missing (Debian package {package})"
    if under_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)

"""Policies for several routing domains, as a deployment hosting them would have."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared.policy import DEFAULT_POLICY_FILE


def policy_per_domain(folder: Path, domains: tuple[str, ...] | list[str]) -> Path:
    """The default policy once per domain (the same queues), one file each in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    for domain in domains:
        (folder / f"{domain}.yaml").write_text(yaml.safe_dump({**doc, "domain": domain}))
    return folder

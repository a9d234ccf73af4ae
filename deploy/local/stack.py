"""The whole stack as local processes: infra (infra.py) + every service in procfile.

    python deploy/local/stack.py up|down|status

`up` returns once every readiness URL answers; services keep running detached, with
logs in .omniroute/logs/<name>.log and pids in .omniroute/pids/<name>.pid.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import infra  # deploy/local/infra.py (this script's directory is on sys.path)

PROCFILE = infra.HERE / "procfile"
STATE = infra.DEFAULT_STATE
READY_TIMEOUT_S = 60.0
INFRA_PIDS = {"kafka", "redis"}  # owned by infra.py, which stops them itself
# Readiness is probed on 127.0.0.1: never through an http_proxy from the environment.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def read_procfile(path: Path | None = None) -> tuple[list[tuple[str, str, list[str]]], list[str]]:
    """([(name, readiness URL or "-", argv)], [lines of the `# urls:` section])."""
    services, urls, in_urls = [], [], False
    for raw in (path or PROCFILE).read_text().splitlines():
        line = raw.strip()
        if line.lower() == "# urls:":
            in_urls = True
        elif line.startswith("#") or not line:
            if in_urls and line.lstrip("# "):
                urls.append(line.lstrip("# "))
        else:
            name, ready, command = (part.strip() for part in line.split("|", 2))
            argv = shlex.split(command)
            if argv[0] == "python":
                argv[0] = sys.executable  # the venv this script runs in
            services.append((name, ready, argv))
    return services, urls


def _ready(url: str) -> bool:
    try:
        with _direct.open(url, timeout=2) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _wait(name: str, url: str, pidfile: Path, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _ready(url):
        if not infra.running(pidfile):
            raise RuntimeError(f"{name} exited before {url} answered; {log}:\n{infra.tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: {url} not ready after {READY_TIMEOUT_S:.0f}s; "
                               f"{log}:\n{infra.tail(log)}")
        time.sleep(0.2)


def up() -> None:
    # The development secrets need OMNIROUTE_ENV=dev, said explicitly (unless overridden).
    env = {"OMNIROUTE_ENV": "dev", **os.environ, **infra.up(STATE, standard_ports=True), "PYTHONUNBUFFERED": "1"}
    services, urls = read_procfile()
    try:
        for name, ready, argv in services:
            pidfile, log = STATE / "pids" / f"{name}.pid", STATE / "logs" / f"{name}.log"
            if not infra.running(pidfile):
                infra.spawn(argv, log=log, pidfile=pidfile, env=env, cwd=infra.REPO)
            if ready != "-":
                _wait(name, ready, pidfile, log)
            print(f"{name}: running, log {log}")
    except BaseException:
        down()  # a half-started stack is worse than none
        raise
    infra_urls = [f"Kafka bootstrap        {env['OMNIROUTE_KAFKA_BOOTSTRAP']}",
                  f"Redis                  {env['OMNIROUTE_REDIS_URL']}"]
    print(*(f"  {u}" for u in urls + infra_urls), sep="\n")


def down() -> None:
    """Stop the services in reverse start order, then any other service pid we
    recorded (e.g. one since removed from the procfile), then the infra."""
    services, _ = read_procfile()
    names = [name for name, _, _ in reversed(services)]
    pids_dir = STATE / "pids"
    extra = sorted(p.stem for p in pids_dir.glob("*.pid")) if pids_dir.exists() else []
    for name in names + [n for n in extra if n not in names and n not in INFRA_PIDS]:
        infra.stop(pids_dir / f"{name}.pid")
    infra.down(STATE)


def status() -> int:
    services, _ = read_procfile()
    for name, _, _ in services:
        pid = infra.running(STATE / "pids" / f"{name}.pid")
        print(f"{name}: {'running, pid %d' % pid if pid else 'stopped'}")
    return infra.status(STATE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args()
    if args.command == "up":
        try:
            up()
        except RuntimeError as exc:
            print(f"stack up failed: {exc}", file=sys.stderr)
            return 1
    elif args.command == "down":
        down()
    else:
        return status()
    return 0


if __name__ == "__main__":
    sys.exit(main())

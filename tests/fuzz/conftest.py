"""Each service as a real process (`python -m services.<name>`) on the session's Kafka and
a Redis database of its own (what the fuzzers create must not leak into other tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.fuzz.cases import CASES
from tests.infra import REPO
from tests.routing.world import db_url
from tests.support.serve import free_port

ADMIN_TOKEN = "fuzz-admin-token"
FUZZ_DB = 7
LOGS = REPO / ".omniroute" / "fuzz-logs"

SERVICES = {  # name -> (module, port setting, extra env)
    "router": ("services.router", "OMNIROUTE_ROUTER_PORT", {}),
    "chat": ("services.chat_gateway", "OMNIROUTE_CHAT_PORT", {}),
    "email": ("services.email_gateway", "OMNIROUTE_EMAIL_HTTP_PORT", {"OMNIROUTE_SMTP_PORT": "0"}),
    "voice": ("services.voice_gateway", "OMNIROUTE_VOICE_HTTP_PORT", {"OMNIROUTE_SIP_HOST": "127.0.0.1"}),
}


def start(name: str, infra, db: int = FUZZ_DB, **env: str) -> tuple[subprocess.Popen, str]:
    """`env`: more settings for the process (OTEL_* for the tracing test)."""
    module, port_env, extra = SERVICES[name]
    port = free_port()
    redis_url = db_url(infra.redis_url, db)
    env = {**os.environ, "PYTHONPATH": str(REPO), port_env: str(port), "OMNIROUTE_REDIS_URL": redis_url,
           "OMNIROUTE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "OMNIROUTE_ADMIN_TOKEN": ADMIN_TOKEN,
           "OMNIROUTE_ROUTER_GROUP": f"fuzz-router-{port}", "OMNIROUTE_REPLICA": f"fuzz-{name}-{port}",
           "OMNIROUTE_SIP_PORT": str(free_port()), "OMNIROUTE_LOG_LEVEL": "WARNING",
           "OMNIROUTE_OFFSET_RESET": "latest", **extra, **env}  # other tests' contacts are not theirs
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{name}.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", module], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"{name} did not start; see {LOGS / (name + '.log')}")


@pytest.fixture(scope="module")
def running(infra):
    """Start a service once per module (stopped after: it would route other tests'
    contacts): running(name) -> base URL."""
    procs: dict[str, tuple[subprocess.Popen, str]] = {}

    def get(name: str) -> str:
        if name not in procs:
            procs[name] = start(name, infra)
        return procs[name][1]

    yield get
    for proc, _ in procs.values():
        proc.terminate()
        proc.wait(15)
    print("\nfuzz cases run per service: " + ", ".join(f"{k} {v}" for k, v in sorted(CASES.items())))

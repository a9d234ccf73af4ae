"""`make up` without Docker: the whole stack as local processes with demo traffic, and
`make down` leaves no process behind."""

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import httpx
import pytest

from tests.infra import local_infra_module
from tests.support.poll import until
from tests.support.tools import under_ci

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
STACK = [sys.executable, str(REPO / "deploy/local/stack.py")]
ADMIN = {"Authorization": "Bearer dev-admin-token"}
READY = ["http://127.0.0.1:8080/readyz", "http://127.0.0.1:8081/readyz", "http://127.0.0.1:8082/readyz",
         "http://127.0.0.1:8083/readyz"]


def _pids() -> dict[str, int]:
    infra = local_infra_module()
    found = {}
    for pidfile in (infra.DEFAULT_STATE / "pids").glob("*.pid"):
        pid = infra.running(pidfile)
        if pid:
            found[pidfile.stem] = pid
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it yet


@pytest.fixture
def free_stack():
    if _pids():
        message = "a `make up` stack is already running here; `make down` first"
        pytest.fail(message) if under_ci() else pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}  # the stack's own infra
    yield env
    subprocess.run([*STACK, "down"], env=env, timeout=120, check=False)


async def test_make_up_runs_every_service_with_demo_traffic_and_down_leaves_nothing(free_stack):
    up = subprocess.run([*STACK, "up"], env=free_stack, capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr[-3000:]
    assert "http://127.0.0.1:8080/desktop" in up.stdout and "http://127.0.0.1:8081/widget" in up.stdout
    for url in READY:
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert resp.status == 200, url
    started = _pids()
    assert {"kafka", "redis", "router", "chat", "email", "voice", "mailsink", "demo"} <= set(started)

    async with httpx.AsyncClient(base_url="http://127.0.0.1:8080", trust_env=False) as http:
        async def answered():
            stats = (await http.get("/v1/stats", headers=ADMIN)).json()
            return stats["center"]["today"]["answered"] > 0
        await until(answered, 90, interval=0.5, what="demo contacts answered by demo agents")
        await _readme_examples_work_as_written(http)

    down = subprocess.run([*STACK, "down"], env=free_stack, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr[-3000:]
    assert [name for name, pid in started.items() if _alive(pid)] == []


def readme_example(pattern: str) -> str:
    found = re.search(pattern, (REPO / "README.md").read_text(), re.S)
    assert found, f"the README lost its example {pattern!r}"
    return found.group(1)


async def _readme_examples_work_as_written(http: httpx.AsyncClient) -> None:
    """The README's kcat, swaks and sipp examples, run exactly as printed, against `make up`."""
    kcat = readme_example(r"Publish a contact with nothing but `kcat`:\s*```sh\n(.*?)\n```")
    done = subprocess.run(["bash", "-c", kcat], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr

    async def contact_c1() -> bool:
        return (await http.get("/v1/contacts/c-1", headers=ADMIN)).status_code == 200

    await until(contact_c1, 30, interval=0.5, what="the kcat example's contact c-1 at the router")
    swaks = readme_example(r"`(swaks --server [^`]+)`")
    done = subprocess.run(["bash", "-c", swaks], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and re.search(r"^<[-~] +250 ", done.stdout, re.M), done.stdout[-2000:]
    sipp = readme_example(r"`(sipp -sn uac [^`]+)`")
    done = subprocess.run(["bash", "-c", sipp], capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL,
                          cwd="/tmp")
    assert done.returncode == 0, done.stdout[-2000:]

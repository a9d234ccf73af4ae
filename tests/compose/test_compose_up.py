"""The real docker-compose.yml, started as users start it (`docker-compose --profile demo
up`), on Podman's Docker-compatible API: every health check passes, one contact per
channel is routed end to end by the demo agents (a chat through the widget's WebSocket,
a mail with swaks, a call with sipp, each seen on Kafka with kcat), Prometheus scrapes
every service and the Grafana stand-in serves the provisioned dashboard; then it is taken
down. The images no registry serves here are stand-ins (standins/README.md says which and
what each honours); the Omniroute image is built from deploy/docker/Dockerfile unchanged.

Production mode with secrets of its own (a generated env file): the path a deployment
takes, not the development defaults."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import time
import uuid

import httpx
import pytest
import websockets

from tests.compose import images
from tests.support.frames import next_frame
from tests.support.poll import until

pytestmark = [pytest.mark.compose, pytest.mark.timeout(1800)]
REPO = images.REPO
PROJECT = "omniroute-compose-test"
LONG_RUNNING = ("kafka", "redis", "router", "chat", "voice", "email", "mailsink", "prometheus", "grafana")
HEALTH_CHECKED = ("kafka", "redis", "router", "chat", "voice", "email", "prometheus", "grafana")
KAFKA = "localhost:29092"


def require_tools() -> None:
    missing = images.missing_tools() + [t for t in ("kcat", "swaks", "sipp", "curl")
                                        if subprocess.run(["which", t], capture_output=True).returncode]
    if missing:
        message = "missing for the Compose test: " + ", ".join(missing) + " (.ci/run installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def compose(env: dict, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["docker-compose", "-p", PROJECT, "--env-file", env["ENV_FILE"], *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_tools()
    log: list[str] = []
    images.ensure_images(log.append)
    env_file = tmp_path_factory.mktemp("compose") / "production.env"
    secrets_ = {name: secrets.token_urlsafe(24) for name in
                ("OMNIROUTE_ADMIN_TOKEN", "OMNIROUTE_SURVEY_SECRET", "OMNIROUTE_CHAT_SECRET", "OMNIROUTE_OPS_TOKEN")}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in {**secrets_, "OMNIROUTE_ENV": "production"}.items()))
    with images.docker_api() as api_env, images.health_checks(PROJECT):
        env = {**api_env, "ENV_FILE": str(env_file)}
        compose(env, "down", "-v", timeout=300)  # a run killed before its teardown
        started = time.monotonic()
        up = compose(env, "--profile", "demo", "up", "-d", "--build")
        if up.returncode:
            failure = up.stderr[-3000:] + container_logs()
            compose(env, "down", "-v", timeout=300)
            pytest.fail(failure)
        log.append(f"docker-compose --profile demo up -d --build: {time.monotonic() - started:.0f} s")
        try:
            yield {"env": env, "admin": secrets_["OMNIROUTE_ADMIN_TOKEN"], "log": log}
        finally:
            down = compose(env, "down", "-v", timeout=300)
            print("\n".join(log), f"\ndocker-compose down -v: exit {down.returncode}", sep="\n")


def states() -> dict[str, str]:
    """Service -> its container's status as Podman reports it ("Up 20 seconds (healthy)")."""
    out = images.podman("ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}",
                        "--format", "{{.Labels}}|{{.Status}}").stdout
    found = {}
    for line in out.splitlines():
        labels, _, status = line.rpartition("|")
        for part in labels.strip("map[]").split(" "):
            if part.startswith("com.docker.compose.service:"):
                found[part.split(":", 1)[1]] = status
    return found


def container_logs(lines: int = 25) -> str:
    """The last lines of every container of the project whose health is not good."""
    out = []
    for service, status in states().items():
        if "(healthy)" not in status:
            name = f"{PROJECT}_{service}_1"
            logs = images.podman("logs", "--tail", str(lines), name, check=False)
            out.append(f"\n--- {service}: {status}\n{logs.stdout}{logs.stderr}")
    return "".join(out)


def routing_events() -> list[dict]:
    """Every routing and contact event so far, read from the published port with kcat."""
    events = []
    for topic in ("omniroute.contacts", "omniroute.routing"):
        done = subprocess.run(["kcat", "-b", KAFKA, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J"],
                              capture_output=True, text=True, timeout=60)
        for line in done.stdout.splitlines():
            record = json.loads(line)
            headers = dict(zip(record.get("headers", [])[::2], record.get("headers", [])[1::2], strict=False))
            events.append({"type": headers.get("ce_type", ""), "data": json.loads(record["payload"] or "{}")})
    return events


def routed(channel: str, marker: str) -> str | None:
    """The contact of `channel` whose event names `marker` (its id, the sender), once the
    demo agents were assigned it (the demo's own traffic is on every channel too)."""
    events = routing_events()
    created = [e["data"]["id"] for e in events if e["type"] == "omniroute.contact.created.v1"
               and e["data"].get("channel") == channel and marker in json.dumps(e["data"])]
    assigned = {e["data"]["contact_id"] for e in events if e["type"] == "omniroute.contact.assigned.v1"}
    return next((cid for cid in created if cid in assigned), None)


async def test_the_compose_stack_boots_healthy_and_routes_a_contact_per_channel(stack, tmp_path):
    log = stack["log"]

    # Every health check passes (docker-compose's own `depends_on: service_healthy` gates).
    started = time.monotonic()
    await until(lambda: all("(healthy)" in states().get(s, "") for s in HEALTH_CHECKED), 600, interval=2,
                what=f"every health check: {states()}")
    log.append(f"healthy after {time.monotonic() - started:.0f} s more: " + ", ".join(sorted(HEALTH_CHECKED)))
    assert all(states()[s].startswith("Up") for s in LONG_RUNNING), states()
    assert states()["kafka-init"].startswith("Exited (0)"), states()

    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        admin = {"Authorization": f"Bearer {stack['admin']}"}
        # Production mode: the development admin token is refused, the generated one works.
        assert (await http.get("http://127.0.0.1:8080/v1/queues", headers={"Authorization": "Bearer dev-admin-token"})).status_code == 401
        assert (await http.get("http://127.0.0.1:8080/v1/queues", headers=admin)).status_code == 200
        await until(lambda: _agents_available(http, admin), 120, interval=1, what="the demo agents signed in")

        # Chat through the widget's WebSocket.
        async with websockets.connect("ws://127.0.0.1:8081/ws") as ws:
            await ws.send(json.dumps({"type": "start", "name": "Pat", "email": "pat@example.com", "topic": "general"}))
            chat_id = (await next_frame(ws, "started"))["conversation_id"]
            await until(lambda: routed("chat", chat_id), 120, interval=1, what="the chat routed")
        log.append(f"chat {chat_id}: created and assigned")

        # A mail with swaks, to the published SMTP port.
        sender = f"compose-{uuid.uuid4().hex[:8]}@example.com"
        mail = subprocess.run(["swaks", "--server", "127.0.0.1:2525", "--to", "support@omniroute.local",
                               "--from", sender, "--header", f"Subject: compose test {uuid.uuid4().hex[:6]}",
                               "--body", "My invoice is wrong."], capture_output=True, text=True, timeout=60)
        assert mail.returncode == 0, mail.stdout[-2000:]
        mail_id = await until(lambda: routed("email", sender), 120, interval=1, what="the mail routed")
        log.append(f"email {mail_id}: created and assigned (swaks: 250 queued)")

        # A call with sipp, to the published SIP port (the caller's number names it). It
        # holds up to 90 s: a call needs an agent with all capacity free, and the demo's own
        # traffic keeps them busy.
        caller = f"55{secrets.randbelow(10**8):08d}"
        call = await asyncio.create_subprocess_exec(
            "sipp", "127.0.0.1:5060", "-sf", str(REPO / "tests/voice/scenarios/caller_hangup.xml"), "-s", "1000",
            "-i", "127.0.0.1", "-p", str(_free_udp_port()), "-m", "1", "-d", "90000", "-nostdin", "-timeout", "150s", "-timeout_error",
            "-key", "caller", caller, cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        call_id = await until(lambda: routed("voice", caller), 100, interval=1, what="the call routed")
        out, _ = await asyncio.wait_for(call.communicate(), 150)
        assert call.returncode == 0, out.decode(errors="replace")[-3000:]
        log.append(f"voice {call_id}: created and assigned (sipp: call answered, hung up, exit 0)")

        # Prometheus scrapes every service; the Grafana stand-in serves the provisioned dashboard.
        async def scraped() -> list | None:
            targets = (await http.get("http://127.0.0.1:9090/api/v1/targets")).json()["data"]["activeTargets"]
            jobs = {t["labels"]["job"]: t["health"] for t in targets}
            return jobs if set(jobs) >= {"router", "chat_gateway", "email_gateway", "voice_gateway"} \
                and all(h == "up" for h in jobs.values()) else None

        jobs = await until(scraped, 120, interval=2, what="every scrape target up")
        log.append(f"prometheus targets up: {sorted(jobs)}")
        uid = json.loads((REPO / "deploy/grafana/dashboards/omniroute.json").read_text())["uid"]
        board = (await http.get(f"http://127.0.0.1:3000/api/dashboards/uid/{uid}")).json()
        assert board["dashboard"]["uid"] == uid and board["meta"]["provisioned"], board
        log.append(f"grafana (stand-in) serves the provisioned dashboard {board['dashboard']['title']!r}")


async def _agents_available(http: httpx.AsyncClient, admin: dict) -> bool:
    stats = (await http.get("http://127.0.0.1:8080/v1/stats", headers=admin)).json()
    return stats["center"]["agents"].get("available", 0) > 0


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




def test_the_stand_ins_name_what_they_stand_for():
    """Every image docker-compose.yml or the Dockerfile names, and no registry serves here,
    has a stand-in folder with a Containerfile."""
    for image, folder in images.IMAGES.items():
        assert (images.STANDINS / folder / "Containerfile").exists(), image
    compose_text = (REPO / "docker-compose.yml").read_text() + (REPO / "deploy/docker/Dockerfile").read_text()
    for image in images.IMAGES:
        short = image.removeprefix("docker.io/").removeprefix("library/")
        assert short in compose_text, short


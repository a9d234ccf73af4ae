"""The container side of the Compose test: Podman's Docker-compatible API for
docker-compose, and the images no registry serves here, built once from a debootstrap
root file system and Debian packages (standins/README.md) and kept in Podman's store.

    python -m tests.compose.images      # build what is missing, print what exists
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).with_name("standins")
SOCKET = Path("/run/podman/podman.sock")
# Fully qualified: the names docker-compose's short names resolve to.
BASE = "docker.io/library/debian:bookworm-slim"
IMAGES = {  # name in docker-compose.yml / the Dockerfile -> stand-in folder
    "docker.io/library/python:3.11.11-slim-bookworm": "python",
    "docker.io/library/redis:7.4.1": "redis",
    "docker.io/apache/kafka:4.1.0": "kafka",
    "docker.io/prom/prometheus:v2.55.1": "prometheus",
    "docker.io/grafana/grafana:11.3.0": "grafana",
}
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
TOOLS = {"podman": "podman", "debootstrap": "debootstrap", "runc": "runc", "docker-compose": "docker-compose",
         "mvn": "maven"}


def missing_tools() -> list[str]:
    return [f"{tool} (Debian package {pkg})" for tool, pkg in TOOLS.items() if shutil.which(tool) is None]


def podman(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], check=check, text=True, capture_output=True, **kw)


def exists(image: str) -> bool:
    return podman("image", "exists", image, check=False).returncode == 0


def recipe(folder: str) -> str:
    """A digest of the stand-in's folder: a changed recipe is built again."""
    digest = hashlib.sha256()
    for path in sorted((STANDINS / folder).rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STANDINS).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def current(image: str, folder: str) -> bool:
    found = podman("image", "inspect", "--format", '{{ index .Labels "omniroute.standin" }}', image, check=False)
    return found.returncode == 0 and found.stdout.strip() == recipe(folder)


def build_base(log) -> None:
    """debootstrap --variant=minbase bookworm, imported as the Debian base image."""
    with tempfile.TemporaryDirectory(prefix="omniroute-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        started = time.monotonic()
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), "http://deb.debian.org/debian"],
                       check=True, capture_output=True, text=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["podman", "import", "-", BASE], stdin=tar.stdout, check=True, capture_output=True)
        tar.wait()
        log(f"built {BASE} (debootstrap minbase bookworm) in {time.monotonic() - started:.0f} s")


def _context(folder: str, tmp: Path) -> Path:
    """The stand-in's build context; the Kafka one gets its jars from Maven Central, the
    Python one this machine's CA bundle (for pip behind a TLS-inspecting network)."""
    context = tmp / folder
    shutil.copytree(STANDINS / folder, context)
    if folder == "python":
        shutil.copy(HOST_CA_BUNDLE, context / "host-ca-bundle.crt")
    if folder == "kafka":
        subprocess.run(["mvn", "-B", "-q", "-f", str(context / "pom.xml"), "dependency:copy-dependencies",
                        f"-DoutputDirectory={context / 'libs'}"], check=True, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    return context


def build_standin(image: str, folder: str, log) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="omniroute-standin-") as tmp:
        context = _context(folder, Path(tmp))
        # apt fetches over plain HTTP (signed packages); images that need TLS install Debian's
        # ca-certificates themselves.
        done = podman("build", "--pull=never", "--label", f"omniroute.standin={recipe(folder)}", "-t", image,
                      str(context), check=False)
        if done.returncode:
            raise RuntimeError(f"building the {folder} stand-in failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    log(f"built {image} (stand-in: {folder}) in {time.monotonic() - started:.0f} s")


def ensure_images(log=print) -> list[str]:
    """Build the base and every stand-in that Podman does not have yet; their names."""
    if not exists(BASE):
        build_base(log)
    else:
        log(f"cached {BASE}")
    for image, folder in IMAGES.items():
        if current(image, folder):
            log(f"cached {image}")
        else:
            build_standin(image, folder, log)
    return [BASE, *IMAGES]


@contextlib.contextmanager
def docker_api() -> Iterator[dict[str, str]]:
    """Podman's Docker-compatible API on a socket (started here unless one answers); the
    environment docker-compose needs to use it."""
    env = {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}", "COMPOSE_DOCKER_CLI_BUILD": "0",
           "DOCKER_BUILDKIT": "0"}
    proc = None
    if not _answers():
        SOCKET.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{SOCKET}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not _answers():
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("podman system service did not answer")
            time.sleep(0.2)
    try:
        yield env
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def health_checks(project: str) -> Iterator[None]:
    """Run the health checks of the project's containers at their own intervals. A Docker
    engine runs them itself; Podman leaves it to systemd timers, which a machine without
    systemd lacks, so `depends_on: condition: service_healthy` would wait for ever."""
    stop = threading.Event()
    due: dict[str, float] = {}  # container id -> when its check runs next

    def beat() -> None:
        while not stop.wait(1.0):
            ids = podman("ps", "-q", "--filter", f"label=com.docker.compose.project={project}", check=False).stdout
            for cid in ids.split():
                if cid not in due:
                    due[cid] = time.monotonic() + _interval_s(cid)
                elif time.monotonic() >= due[cid]:
                    podman("healthcheck", "run", cid, check=False)
                    due[cid] = time.monotonic() + _interval_s(cid)

    thread = threading.Thread(target=beat, name="health-checks", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def _interval_s(cid: str) -> float:
    """The container's health-check interval (Docker's default 30 s; none: never)."""
    found = podman("inspect", "--format", "{{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval}}{{end}}", cid,
                   check=False).stdout.strip()
    if not found:
        return float("inf")
    if found.isdigit():  # nanoseconds
        return int(found) / 1e9
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}  # a Go duration: 1m30s
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(h|ms|us|µs|ns|m|s)", found)) or 30.0


def _answers() -> bool:
    return SOCKET.exists() and subprocess.run(
        ["curl", "-sf", "--unix-socket", str(SOCKET), "http://d/_ping"], capture_output=True).returncode == 0


if __name__ == "__main__":
    if missing_tools():
        sys.exit("missing: " + ", ".join(missing_tools()))
    ensure_images()

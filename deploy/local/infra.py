"""Local Kafka (KRaft, jars from Maven Central) + redis-server, without Docker.

    python deploy/local/infra.py fetch|up|down|status [--state-dir DIR]

`up` starts a single-node Kafka broker/controller and a redis-server on 127.0.0.1,
creates the Omniroute topics and writes <state>/infra.env; it is a no-op when both
are already up and healthy. `down` stops exactly the processes `up` recorded and
deletes their data. Importable: up(state_dir) -> env dict, down(state_dir).

Env: OMNIROUTE_KAFKA_LIBS (jar cache), OMNIROUTE_KAFKA_PORT / OMNIROUTE_REDIS_PORT
(fixed ports; default: free ones picked at start).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))  # `shared` even when the package isn't installed

KAFKA_VERSION = "4.1.0"  # keep in step with kafka/pom.xml and docker-compose.yml
POM = HERE / "kafka" / "pom.xml"
LOG4J = HERE / "kafka" / "log4j2.yaml"
DEFAULT_STATE = REPO / ".omniroute"
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0


def libs_dir() -> Path:
    default = Path.home() / ".cache" / "omniroute" / f"kafka-{KAFKA_VERSION}" / "libs"
    return Path(os.environ.get("OMNIROUTE_KAFKA_LIBS") or default)


def fetch() -> Path:
    """Download the broker jars once (Maven's ~/.m2 makes a re-fetch cheap too)."""
    libs = libs_dir()
    if (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        return libs
    _require("mvn", "java")
    # Download next to the target and rename, so an interrupted fetch never looks done.
    tmp = libs.with_name(libs.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    # Output only on failure: Maven's quiet mode still prints colour codes.
    mvn = subprocess.run(
        ["mvn", "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
         f"-DoutputDirectory={tmp}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    if mvn.returncode:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"fetching Kafka jars with Maven failed:\n{mvn.stdout[-4000:]}")
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    return libs


# -- processes -----------------------------------------------------------------------
# A pid file holds "<pid> <start time>": the start time (from /proc) makes sure we never
# signal an unrelated process that happens to reuse a recorded pid.


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # exited, waiting to be reaped: not running
        return None
    return fields[19]


def spawn(cmd: list[str], *, log: Path, pidfile: Path, env=None, cwd=None) -> int:
    """Start a detached process (own session: survives the caller, ignores its ^C)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )
    pidfile.write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
    return proc.pid


def running(pidfile: Path) -> int | None:
    """The recorded pid if that very process is still running."""
    try:
        pid_s, started = pidfile.read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return None
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own exited child
    return pid if _start_time(pid) == started else None


def stop(pidfile: Path, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the recorded process, SIGKILL it after the deadline, forget the pid."""
    pid = running(pidfile)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while running(pidfile) and time.monotonic() < deadline:
            time.sleep(0.1)
        if running(pidfile):
            os.kill(pid, signal.SIGKILL)
            while running(pidfile):
                time.sleep(0.05)
    pidfile.unlink(missing_ok=True)


def tail(path: Path, lines: int = 30) -> str:
    """Last lines of a log, minus Java stack frames (the cause lines are what helps)."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    kept = [ln for ln in text if not re.match(r"\s+(at |\.\.\. \d+ more)", ln)]
    return "\n".join(kept[-lines:])


# -- infra ---------------------------------------------------------------------------


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise RuntimeError(f"missing on PATH: {', '.join(missing)} (see .ci/run for the packages)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env_port(name: str, standard: int | None = None) -> int:
    """The port `name` says; else the standard one when it is free (so documented
    examples like `kcat -b 127.0.0.1:9092` work); else any free port, said aloud."""
    value = os.environ.get(name)
    if value:
        return int(value)
    if standard is not None:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", standard))
                return standard
            except OSError:
                port = _free_port()
                print(f"port {standard} is taken: using {port} (set {name} to choose)", file=sys.stderr)
                return port
    return _free_port()


def _env_lines(kafka_port: int, redis_port: int) -> dict[str, str]:
    return {
        "OMNIROUTE_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
        "OMNIROUTE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
    }


def _cluster_id() -> str:
    # Kafka's Uuid text form: url-safe base64 of 16 bytes; it must not start with "-".
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _server_properties(data: Path, port: int, controller_port: int) -> str:
    return f"""\
# Single-node KRaft broker+controller for local runs and tests (written by infra.py).
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
log.dirs={data}
# Topics are created explicitly (shared.admin.ensure_topics), never by a typo.
auto.create.topics.enable=false
# One broker: internal topics cannot have more replicas than that.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumers in tests join at once; the 3 s default delay only slows them down.
group.initial.rebalance.delay.ms=0
"""


def _start_kafka(state: Path, port: int, controller_port: int) -> None:
    libs, kdir = fetch(), state / "kafka"
    data, logs = kdir / "data", state / "logs"
    data.mkdir(parents=True, exist_ok=True)
    props = kdir / "server.properties"
    props.write_text(_server_properties(data, port, controller_port))
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "kafka.out", "ab") as out:
        subprocess.run(
            _java(state, libs) + ["kafka.tools.StorageTool", "format", "--standalone",
                                  "--cluster-id", _cluster_id(), "--config", str(props)],
            check=True, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    _spawn_kafka(state, libs)


def _java(state: Path, libs: Path) -> list[str]:
    return ["java", "-Xms256m", "-Xmx512m", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J}", f"-Dkafka.logs.dir={state / 'logs'}",
            "-cp", f"{libs}/*"]


def _spawn_kafka(state: Path, libs: Path) -> None:
    """Start the broker on its formatted data dir (a restart keeps every topic and offset)."""
    spawn(_java(state, libs) + ["kafka.Kafka", str(state / "kafka" / "server.properties")],
          log=state / "logs" / "kafka.out", pidfile=state / "pids" / "kafka.pid")


def _start_redis(state: Path, port: int) -> None:
    data = state / "redis"
    data.mkdir(parents=True, exist_ok=True)
    spawn(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
           "--dir", str(data), "--appendonly", "yes", "--save", "",
           "--daemonize", "no", "--logfile", ""],
          log=state / "logs" / "redis.log", pidfile=state / "pids" / "redis.pid")


async def _redis_ok(url: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(await client.ping())
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


async def _kafka_ok(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    host, port = bootstrap.rsplit(":", 1)
    try:  # cheap check first: keeps aiokafka from logging connect errors while booting
        with socket.create_connection((host, int(port)), timeout=1):
            pass
    except OSError:
        return False
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster["brokers"]) and cluster["controller_id"] >= 0
    except (KafkaError, OSError, asyncio.TimeoutError):
        return False
    finally:
        await admin.close()


async def _wait_ready(state: Path, env: dict[str, str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    checks = {"redis": (_redis_ok, env["OMNIROUTE_REDIS_URL"], "redis.log"),
              "kafka": (_kafka_ok, env["OMNIROUTE_KAFKA_BOOTSTRAP"], "kafka.out")}
    while checks:
        for name, (check, target, log) in list(checks.items()):
            if await check(target):
                del checks[name]
            elif not running(state / "pids" / f"{name}.pid"):
                raise RuntimeError(f"{name} exited during start-up; log tail:\n"
                                   + tail(state / "logs" / log))
        if checks and time.monotonic() > deadline:
            name, (_, _, log) = next(iter(checks.items()))
            raise RuntimeError(f"{name} not ready after {timeout_s:.0f}s; log tail:\n"
                               + tail(state / "logs" / log))
        await asyncio.sleep(0.2)


def _healthy(state: Path) -> dict[str, str] | None:
    try:
        env = json.loads((state / "infra.json").read_text())["env"]
    except (OSError, ValueError, KeyError):
        return None
    if not all(running(state / "pids" / f"{n}.pid") for n in ("kafka", "redis")):
        return None
    ok = asyncio.run(_both_ok(env))
    return env if ok else None


async def _both_ok(env: dict[str, str]) -> bool:
    return (await _redis_ok(env["OMNIROUTE_REDIS_URL"])
            and await _kafka_ok(env["OMNIROUTE_KAFKA_BOOTSTRAP"]))


@contextlib.contextmanager
def _locked(state: Path):
    """Serialise up/down on one state dir (parallel test workers, make -j)."""
    state.mkdir(parents=True, exist_ok=True)
    with open(state / "infra.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up(state_dir: Path | str = DEFAULT_STATE, timeout_s: float = READY_TIMEOUT_S,
       standard_ports: bool = False) -> dict[str, str]:
    """Start (or reuse) Kafka + Redis; return the OMNIROUTE_* env that points at them.
    `standard_ports`: 9092 and 6379 when free (`make up`), else free ports (tests).

    Synchronous (it runs its own event loop): call it outside a running loop."""
    state = Path(state_dir).resolve()
    with _locked(state):
        env = _healthy(state)
        if env:
            return env
        _down(state)  # half-started or crashed leftovers: start clean
        _require("java", "redis-server")
        kafka_port = _env_port("OMNIROUTE_KAFKA_PORT", 9092 if standard_ports else None)
        redis_port = _env_port("OMNIROUTE_REDIS_PORT", 6379 if standard_ports else None)
        env = _env_lines(kafka_port, redis_port)
        try:
            _start_redis(state, redis_port)
            _start_kafka(state, kafka_port, _free_port())
            asyncio.run(_setup(state, env, timeout_s))
        except BaseException:
            _down(state)
            raise
        (state / "infra.json").write_text(json.dumps({"kafka_version": KAFKA_VERSION, "env": env}))
        (state / "infra.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        return env


async def _setup(state: Path, env: dict[str, str], timeout_s: float) -> None:
    from shared.admin import ensure_topics
    from shared.settings import CommonSettings

    await _wait_ready(state, env, timeout_s)
    settings = CommonSettings()
    await ensure_topics(env["OMNIROUTE_KAFKA_BOOTSTRAP"], partitions=settings.topic_partitions,
                        replication=settings.topic_replication)


def restart(state_dir: Path | str, name: str, hard: bool = False, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Stop Kafka or Redis (SIGKILL when `hard`, else SIGTERM) and start it again on the
    same port with the same data, then wait until it answers (fault tests)."""
    state = Path(state_dir).resolve()
    env = json.loads((state / "infra.json").read_text())["env"]
    pidfile = state / "pids" / f"{name}.pid"
    pid = running(pidfile)
    if hard and pid is not None:
        os.kill(pid, signal.SIGKILL)
        while running(pidfile):
            time.sleep(0.05)
    stop(pidfile)
    if name == "redis":
        _start_redis(state, int(env["OMNIROUTE_REDIS_URL"].rsplit(":", 1)[1].split("/")[0]))
    else:
        _spawn_kafka(state, fetch())
    asyncio.run(_wait_ready(state, env, timeout_s))


def down(state_dir: Path | str = DEFAULT_STATE) -> None:
    """Stop the recorded Kafka and Redis processes and delete their data."""
    state = Path(state_dir).resolve()
    if state.exists():
        with _locked(state):
            _down(state)


def _down(state: Path) -> None:
    for name in ("kafka", "redis"):  # Kafka first: it is the one clients are writing to
        stop(state / "pids" / f"{name}.pid")
    forget(state)


def forget(state: Path) -> None:
    """Delete what `up` wrote in a state dir (data and addresses; logs stay)."""
    for path in ("kafka", "redis", "infra.json", "infra.env"):
        target = state / path
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def status(state_dir: Path | str = DEFAULT_STATE) -> int:
    state = Path(state_dir).resolve()
    for name in ("kafka", "redis"):
        pid = running(state / "pids" / f"{name}.pid")
        print(f"{name}: {'running, pid %d' % pid if pid else 'stopped'}")
    env = _healthy(state)
    print("healthy" if env else "not healthy")
    for k, v in (env or {}).items():
        print(f"{k}={v}")
    return 0 if env else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["fetch", "up", "down", "status"])
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE))
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # connect retries while booting
    try:
        return _run(args)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"infra {args.command} failed: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "fetch":
        print(fetch())
    elif args.command == "up":
        env = up(args.state_dir, standard_ports=Path(args.state_dir).resolve() == DEFAULT_STATE.resolve())
        print(f"Kafka {KAFKA_VERSION} and Redis are up; env in {Path(args.state_dir) / 'infra.env'}:")
        for k, v in env.items():
            print(f"  {k}={v}")
    elif args.command == "down":
        down(args.state_dir)
    else:
        return status(args.state_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

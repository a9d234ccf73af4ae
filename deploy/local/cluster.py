"""A local Redis Cluster (3 primaries, 3 replicas) and a 3-broker KRaft Kafka cluster on
127.0.0.1, without Docker: the distributed shape of a large deployment, for tests.

    python deploy/local/cluster.py up|down [--state-dir DIR]

`up` starts six `redis-server --cluster-enabled yes` joined by `redis-cli --cluster
create --cluster-replicas 1`, and three Kafka nodes (each broker and controller, a quorum
of three) whose topics are created with replication factor 3 and min.insync.replicas 2;
it writes <state>/infra.env. `down` stops exactly what `up` recorded and deletes the data.
Importable: up(state_dir) -> env dict, down(state_dir), pids(state_dir, kind).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import infra  # noqa: E402 -- deploy/local/infra.py: fetch, spawn, running, stop

DEFAULT_STATE = infra.REPO / ".omniroute" / "cluster"
REDIS_NODES, BROKERS = 6, 3


def up(state_dir: Path | str = DEFAULT_STATE, timeout_s: float = 120.0, kafka: bool = True) -> dict[str, str]:
    """Start the Redis Cluster and (unless `kafka` is False: benchmarks that keep one
    broker) the Kafka cluster; returns the OMNIROUTE_* addresses."""
    state = Path(state_dir).resolve()
    with infra._locked(state):
        saved = _healthy(state)
        if saved:
            return saved
        _down(state)
        infra._require("java", "redis-server", "redis-cli")
        redis_ports = _cluster_ports(REDIS_NODES)
        kafka_ports = [infra._free_port() for _ in range(BROKERS if kafka else 0)]
        controller_ports = [infra._free_port() for _ in kafka_ports]
        env = {"OMNIROUTE_REDIS_URL": "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in redis_ports)}
        if kafka:
            env |= {"OMNIROUTE_KAFKA_BOOTSTRAP": ",".join(f"127.0.0.1:{p}" for p in kafka_ports),
                    "OMNIROUTE_TOPIC_REPLICATION": str(BROKERS)}
        try:
            for i, port in enumerate(redis_ports):
                _start_redis(state, i, port)
            if kafka:
                _start_kafka(state, kafka_ports, controller_ports)
            _create_redis_cluster(state, redis_ports, timeout_s)
            if kafka:
                asyncio.run(_topics(env, timeout_s))
        except BaseException:
            _down(state)
            raise
        (state / "infra.json").write_text(json.dumps({"env": env, "redis_ports": redis_ports,
                                                      "kafka_ports": kafka_ports}))
        (state / "infra.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        return env


def down(state_dir: Path | str = DEFAULT_STATE) -> None:
    state = Path(state_dir).resolve()
    if state.exists():
        with infra._locked(state):
            _down(state)


def pids(state_dir: Path | str, kind: str) -> dict[int, int]:
    """Running pids of `kind` ("redis" or "kafka") by node index (fault tests)."""
    state = Path(state_dir).resolve()
    count = REDIS_NODES if kind == "redis" else BROKERS
    found = {i: infra.running(state / "pids" / f"{kind}{i}.pid") for i in range(count)}
    return {i: pid for i, pid in found.items() if pid}


def kill(state_dir: Path | str, kind: str, i: int) -> None:
    """kill -9 node `i` of `kind` ("redis" or "kafka"), as a crash would (fault tests)."""
    pid = infra.running(Path(state_dir).resolve() / "pids" / f"{kind}{i}.pid")
    if pid:
        os.kill(pid, signal.SIGKILL)
        while infra.running(Path(state_dir).resolve() / "pids" / f"{kind}{i}.pid"):
            time.sleep(0.05)


def restart(state_dir: Path | str, kind: str, i: int) -> None:
    """Start node `i` again on its port and data: a Redis node rejoins (as a replica when
    its replica was promoted meanwhile), a broker catches up."""
    state = Path(state_dir).resolve()
    saved = json.loads((state / "infra.json").read_text())
    if kind == "redis":
        _start_redis(state, i, saved["redis_ports"][i])
    else:
        infra.spawn(infra._java(state, infra.fetch()) + ["kafka.Kafka", str(state / "kafka" / str(i) / "server.properties")],
                    log=state / "logs" / f"kafka{i}.out", pidfile=state / "pids" / f"kafka{i}.pid")


def primary_of(state_dir: Path | str, key: str) -> int:
    """Index of the Redis node that is primary for `key`'s slot now."""
    ports = json.loads((Path(state_dir).resolve() / "infra.json").read_text())["redis_ports"]
    live = [p for i, p in enumerate(ports) if i in pids(state_dir, "redis")]
    slot = int(_redis_cli(live[0], "cluster", "keyslot", key))
    for line in _redis_cli(live[0], "cluster", "nodes").splitlines():
        fields = line.split()
        if "master" not in fields[2] or "fail" in fields[2]:
            continue
        for span in fields[8:]:
            lo, _, hi = span.partition("-")
            if span[0].isdigit() and int(lo) <= slot <= int(hi or lo):
                return ports.index(int(fields[1].split("@")[0].rsplit(":", 1)[1]))
    raise RuntimeError(f"no primary serves slot {slot}")


def _down(state: Path) -> None:
    for i in range(BROKERS):
        infra.stop(state / "pids" / f"kafka{i}.pid")
    for i in range(REDIS_NODES):
        infra.stop(state / "pids" / f"redis{i}.pid")
    infra.forget(state)


def _healthy(state: Path) -> dict[str, str] | None:
    try:
        saved = json.loads((state / "infra.json").read_text())
        env, brokers = saved["env"], len(saved["kafka_ports"])
    except (OSError, ValueError, KeyError):
        return None
    if len(pids(state, "redis")) < REDIS_NODES or len(pids(state, "kafka")) < brokers:
        return None
    return env


# -- Redis Cluster ---------------------------------------------------------------------
def _cluster_ports(n: int) -> list[int]:
    """Free ports whose cluster bus port (+10000) is free and valid too."""
    found: list[int] = []
    rng = random.Random()
    while len(found) < n:
        port = rng.randrange(20_000, 55_000)
        if port not in found and all(_free(p) for p in (port, port + 10_000)):
            found.append(port)
    return found


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _start_redis(state: Path, i: int, port: int) -> None:
    data = state / "redis" / str(i)
    data.mkdir(parents=True, exist_ok=True)
    infra.spawn(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data),
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "3000",
                 "--appendonly", "yes", "--save", "", "--daemonize", "no", "--logfile", ""],
                log=state / "logs" / f"redis{i}.log", pidfile=state / "pids" / f"redis{i}.pid")


def _create_redis_cluster(state: Path, ports: list[int], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(_redis_cli(p, "ping") == "PONG" for p in ports):
        if time.monotonic() > deadline:
            raise RuntimeError("redis nodes did not start; see " + str(state / "logs"))
        time.sleep(0.2)
    subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                    "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True, timeout=60)
    while not all("cluster_state:ok" in _redis_cli(p, "cluster", "info") for p in ports):
        if time.monotonic() > deadline:
            raise RuntimeError("redis cluster did not reach cluster_state:ok")
        time.sleep(0.2)


def _redis_cli(port: int, *args: str) -> str:
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=10, check=False)
    return out.stdout.strip()


# -- Kafka -----------------------------------------------------------------------------
def _props(state: Path, i: int, ports: list[int], controllers: list[int]) -> Path:
    data = state / "kafka" / str(i) / "data"
    data.mkdir(parents=True, exist_ok=True)
    voters = ",".join(f"{n + 1}@127.0.0.1:{c}" for n, c in enumerate(controllers))
    props = state / "kafka" / str(i) / "server.properties"
    props.write_text(f"""\
# One of three KRaft nodes (broker and controller) for cluster tests (written by cluster.py).
process.roles=broker,controller
node.id={i + 1}
listeners=PLAINTEXT://127.0.0.1:{ports[i]},CONTROLLER://127.0.0.1:{controllers[i]}
advertised.listeners=PLAINTEXT://127.0.0.1:{ports[i]}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters={voters}
log.dirs={data}
auto.create.topics.enable=false
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
""")
    return props


def _start_kafka(state: Path, ports: list[int], controllers: list[int]) -> None:
    libs = infra.fetch()
    cluster_id = infra._cluster_id()
    for i in range(BROKERS):
        props = _props(state, i, ports, controllers)
        (state / "logs").mkdir(parents=True, exist_ok=True)
        with open(state / "logs" / f"kafka{i}.out", "ab") as out:
            subprocess.run(infra._java(state, libs) + ["kafka.tools.StorageTool", "format", "--cluster-id", cluster_id,
                                                       "--config", str(props)],
                           check=True, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        infra.spawn(infra._java(state, libs) + ["kafka.Kafka", str(props)], log=state / "logs" / f"kafka{i}.out",
                    pidfile=state / "pids" / f"kafka{i}.pid")


async def _topics(env: dict[str, str], timeout_s: float) -> None:
    from shared.admin import ensure_topics
    from shared.settings import CommonSettings

    deadline = time.monotonic() + timeout_s
    while await _brokers(env["OMNIROUTE_KAFKA_BOOTSTRAP"]) < BROKERS:
        if time.monotonic() > deadline:
            raise RuntimeError("kafka cluster not ready")
        await asyncio.sleep(0.5)
    await ensure_topics(env["OMNIROUTE_KAFKA_BOOTSTRAP"], partitions=CommonSettings().topic_partitions,
                        replication=BROKERS)


async def _brokers(bootstrap: str) -> int:
    """Brokers the cluster reports (0 while it boots)."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    if not any(_answers(int(addr.rsplit(":", 1)[1])) for addr in bootstrap.split(",")):
        return 0  # nobody listens yet: spare aiokafka's connect errors
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return len(cluster["brokers"]) if cluster["controller_id"] >= 0 else 0
    except (KafkaError, OSError, asyncio.TimeoutError):
        return 0
    finally:
        await admin.close()


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["up", "down"])
    p.add_argument("--state-dir", default=str(DEFAULT_STATE))
    args = p.parse_args(argv)
    if args.command == "up":
        for k, v in up(args.state_dir).items():
            print(f"{k}={v}")
    else:
        down(args.state_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

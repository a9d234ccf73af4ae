"""Real Kafka + Redis for the test session (docs/architecture.md: running it), found in this order:

0. OMNIROUTE_TEST_CLUSTER=1: a 6-node Redis Cluster and a 3-broker Kafka cluster started
   by deploy/local/cluster.py (the distributed shape; `make test-cluster`);
1. OMNIROUTE_KAFKA_BOOTSTRAP and OMNIROUTE_REDIS_URL, when both are set;
2. testcontainers, when it is importable and a Docker engine answers;
3. deploy/local/infra.py (Kafka jars from Maven Central + redis-server) in its own
   state dir, stopped again at the end of the session.

When none works the tests that need it are skipped, except under CI=true, where that
is a failure: CI must never go green by skipping the integration suite.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_STATE = REPO / ".omniroute" / "test-infra"  # apart from `make up`'s .omniroute/
CLUSTER_STATE = REPO / ".omniroute" / "test-cluster"
ENV_KAFKA, ENV_REDIS = "OMNIROUTE_KAFKA_BOOTSTRAP", "OMNIROUTE_REDIS_URL"
ENV_REPLICATION = "OMNIROUTE_TOPIC_REPLICATION"


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    redis_url: str
    source: str  # "env" | "testcontainers" | "local": handy in failure messages


def local_infra_module(name: str = "infra"):
    """deploy/local/<name>.py, loaded by path (deploy/ is not a package)."""
    path = REPO / "deploy" / "local" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"omniroute_local_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cluster_mode() -> bool:
    return os.environ.get("OMNIROUTE_TEST_CLUSTER", "") == "1"


def unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"test infrastructure unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"test infrastructure unavailable: {reason}")


@contextlib.contextmanager
def provide() -> Iterator[Infra]:
    """Yield running infra and export its env vars (subprocesses under test need them)."""
    saved = {k: os.environ.get(k) for k in (ENV_KAFKA, ENV_REDIS, ENV_REPLICATION)}
    try:
        with _find() as found:
            os.environ[ENV_KAFKA], os.environ[ENV_REDIS] = found.kafka_bootstrap, found.redis_url
            if found.source == "cluster":
                os.environ[ENV_REPLICATION] = "3"
            yield found
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _find() -> Iterator[Infra]:
    if cluster_mode():
        yield from _cluster()
        return
    kafka, redis_url = os.environ.get(ENV_KAFKA), os.environ.get(ENV_REDIS)
    if kafka and redis_url:
        yield Infra(kafka, redis_url, "env")
        return
    if _testcontainers_usable():
        stack = contextlib.ExitStack()
        try:
            found = stack.enter_context(_testcontainers())
        except Exception as exc:  # the hook is best effort; local processes still work
            warnings.warn(f"testcontainers failed, using local processes: {exc}")
        else:
            with stack:
                yield found
            return
    local = local_infra_module()
    try:
        env, error = local.up(TEST_STATE), None
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        env, error = None, exc
    if error is not None:  # reported outside `except`: no chained traceback noise
        unavailable(f"local Kafka/Redis did not start ({error}); see {TEST_STATE / 'logs'}")
    try:
        yield Infra(env[ENV_KAFKA], env[ENV_REDIS], "local")
    finally:
        local.down(TEST_STATE)


def _cluster() -> Iterator[Infra]:
    cluster = local_infra_module("cluster")
    try:
        env, error = cluster.up(CLUSTER_STATE), None
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        env, error = None, exc
    if error is not None:
        unavailable(f"local Redis Cluster / Kafka cluster did not start ({error}); see {CLUSTER_STATE / 'logs'}")
    try:
        yield Infra(env[ENV_KAFKA], env[ENV_REDIS], "cluster")
    finally:
        cluster.down(CLUSTER_STATE)


# -- Docker hook ---------------------------------------------------------------------
# Used only where testcontainers is installed (it is not a project dependency) and a
# Docker engine answers; anything going wrong there falls back to local processes.


def _testcontainers_usable() -> bool:
    if importlib.util.find_spec("testcontainers") is None or shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    return probe.returncode == 0


@contextlib.contextmanager
def _testcontainers() -> Iterator[Infra]:
    import asyncio

    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    from shared.admin import ensure_topics
    from shared.settings import CommonSettings

    local = local_infra_module()  # same Kafka version as local runs and Compose
    with KafkaContainer(f"apache/kafka:{local.KAFKA_VERSION}").with_kraft() as kafka, \
            RedisContainer("redis:7") as redis_c:
        bootstrap = kafka.get_bootstrap_server()
        host, port = redis_c.get_container_host_ip(), redis_c.get_exposed_port(6379)
        settings = CommonSettings()
        asyncio.run(ensure_topics(bootstrap, partitions=settings.topic_partitions,
                                  replication=settings.topic_replication))
        yield Infra(bootstrap, f"redis://{host}:{port}/0", "testcontainers")

"""The Compose file: valid for docker-compose, same Kafka as local runs, every service
that `make up` runs locally, and health-gated start-up."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.infra import local_infra_module

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_docker_compose_accepts_the_file():
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is not installed (Debian package docker-compose)")
        pytest.skip("docker-compose is not installed")
    done = subprocess.run(["docker-compose", "config", "-q"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_kafka_is_the_version_local_runs_use():
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{local_infra_module().KAFKA_VERSION}"


def test_every_local_service_runs_in_compose():
    procfile = (REPO / "deploy/local/procfile").read_text().splitlines()
    local = {line.split("|")[0] for line in procfile if line and not line.startswith("#")}
    assert local <= set(SERVICES)


def test_redis_persists_with_aof_and_reports_health():
    redis = SERVICES["redis"]
    assert "--appendonly" in " ".join(map(str, redis["command"]))
    assert "healthcheck" in redis


@pytest.mark.parametrize("name", ["router", "chat", "email", "voice"])
def test_services_wait_for_healthy_infrastructure(name):
    deps = SERVICES[name]["depends_on"]
    assert deps["redis"]["condition"] == "service_healthy"
    assert deps["kafka"]["condition"] == "service_healthy"
    assert "healthcheck" in SERVICES[name]


CLUSTER = yaml.safe_load((REPO / "docker-compose.cluster.yml").read_text())["services"]


def test_docker_compose_accepts_the_cluster_file():
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is not installed (Debian package docker-compose)")
        pytest.skip("docker-compose is not installed")
    done = subprocess.run(["docker-compose", "-f", "docker-compose.cluster.yml", "config", "-q"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_cluster_file_has_a_redis_cluster_three_brokers_and_router_replicas():
    redis = [s for n, s in CLUSTER.items() if n.startswith("redis-") and n != "redis-init"]
    assert len(redis) == 6 and all("--cluster-enabled" in s["command"] for s in redis)
    assert "--cluster-replicas 1" in CLUSTER["redis-init"]["command"][0]
    brokers = [s["environment"] for n, s in CLUSTER.items() if n.startswith("kafka-") and n != "kafka-init"]
    assert len(brokers) == 3 and {b["KAFKA_NODE_ID"] for b in brokers} == {1, 2, 3}
    assert all((b["KAFKA_MIN_INSYNC_REPLICAS"], b["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == (2, 3) for b in brokers)
    assert "--replication-factor 3" in CLUSTER["kafka-init"]["command"][0]
    routers = [s["environment"] for n, s in CLUSTER.items() if n.startswith("router-")]
    assert len(routers) >= 2 and len({r["OMNIROUTE_REPLICA"] for r in routers}) == len(routers)
    assert all(r["OMNIROUTE_REDIS_URL"].startswith("redis+cluster://") for r in routers)

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


ONE_SHOT = {"kafka-init", "demo"}


def test_long_running_services_restart_and_one_shot_jobs_do_not():
    for name, svc in SERVICES.items():
        assert svc.get("restart") == ("no" if name in ONE_SHOT else "unless-stopped"), name


def test_every_image_is_pinned_and_the_services_share_one_built_image():
    built = {name: svc for name, svc in SERVICES.items() if "build" in svc}
    assert {svc["image"] for svc in built.values()} == {"omniroute:${OMNIROUTE_VERSION:-0.1.0}"}
    assert set(built) >= {"router", "chat", "email", "voice", "demo", "mailsink"}
    for name, svc in SERVICES.items():
        image = svc["image"]
        assert ":" in image and not image.endswith((":latest", ":7")), (name, image)


def test_secrets_come_from_the_environment_and_compose_defaults_to_production():
    text = (REPO / "docker-compose.yml").read_text()
    assert "dev-admin-token" not in text and "dev-survey-secret" not in text and "dev-chat-secret" not in text
    assert SERVICES["router"]["environment"]["OMNIROUTE_ENV"] == "${OMNIROUTE_ENV:-production}"
    example = dict(line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    for name in ("OMNIROUTE_ADMIN_TOKEN", "OMNIROUTE_SURVEY_SECRET", "OMNIROUTE_CHAT_SECRET"):
        assert "${" + name in text and example[name].startswith("change-me"), name


def test_the_policy_and_dial_plan_are_mounted_files():
    assert "./shared/policy.yaml:/etc/omniroute/policy.yaml:ro" in SERVICES["router"]["volumes"]
    assert SERVICES["router"]["environment"]["OMNIROUTE_POLICY_FILE"] == "/etc/omniroute/policy.yaml"
    assert SERVICES["voice"]["environment"]["OMNIROUTE_VOICE_DIALPLAN"] == "/etc/omniroute/dialplan.yaml"


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

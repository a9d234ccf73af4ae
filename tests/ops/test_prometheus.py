"""deploy/prometheus passes promtool (config, rules, rule unit tests that fire and stay
quiet); the Grafana dashboard and the rules only use metrics the router exports; each
gateway that exists serves /metrics that promtool accepts."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.serve import free_ports
from tests.support.tools import require

pytestmark = pytest.mark.ops

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "omniroute.json"


@pytest.fixture(scope="module")
def promtool() -> str:
    return require("promtool", "prometheus")


def _run(*args, cwd=PROM, stdin: bytes | None = None) -> str:
    r = subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, timeout=60)
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out
    return out


def test_config_is_valid(promtool):
    out = _run(promtool, "check", "config", "prometheus.yml")
    assert "1 rule files found" in out


def test_rules_are_valid(promtool):
    out = _run(promtool, "check", "rules", "rules/omniroute.yml")
    assert "SUCCESS: 8 rules found" in out


def test_rule_unit_tests_pass(promtool):
    assert "SUCCESS" in _run(promtool, "test", "rules", "tests/omniroute_test.yml")


def test_rule_tests_catch_a_wrong_expectation(promtool, tmp_path):
    """The rule tests can fail: expecting silence where the alert fires is reported."""
    broken = (PROM / "tests" / "omniroute_test.yml").read_text().replace(
        "eval_time: 3m  # breaching, but not yet for 5 minutes", "eval_time: 25m", 1)
    (tmp_path / "broken_test.yml").write_text(broken.replace("../rules/", str(PROM / "rules") + "/"))
    r = subprocess.run([promtool, "test", "rules", "broken_test.yml"], cwd=tmp_path, capture_output=True, timeout=60)
    assert r.returncode != 0 and b"OmnirouteSLABreach" in r.stdout + r.stderr


def _names_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![:\w])(omniroute_[a-z_]+)(?![:\w])", text))


def _base(name: str) -> str:
    return re.sub(r"_(bucket|sum|count)$", "", name)


def test_dashboard_and_rules_use_exported_metrics():
    """Names used in Grafana and the rules are defined by shared/metrics.py or the
    ops snapshot collector (checked against live output in test_stats_flow)."""
    sources = (ROOT / "shared" / "metrics.py").read_text() + (ROOT / "services/router/adapters/stats_metrics.py").read_text()
    defined = {n for n in _names_in(sources)}
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    rules = [r for g in yaml.safe_load((PROM / "rules" / "omniroute.yml").read_text())["groups"] for r in g["rules"]]
    used = _names_in(" ".join(exprs + [r["expr"] for r in rules]))
    recorded = {r["record"] for r in rules if "record" in r}
    missing = {n for n in used if _base(n) not in defined and n not in defined} - recorded
    assert not missing, missing
    assert {p["datasource"]["uid"] for p in dash["panels"]} == {"omniroute-prometheus"}
    assert len(dash["panels"]) >= 10


GATEWAYS = {  # module -> env naming its HTTP port and other listeners
    "chat_gateway": {"port": "OMNIROUTE_CHAT_PORT", "extra": {}},
    "email_gateway": {"port": "OMNIROUTE_EMAIL_HTTP_PORT", "extra": {"OMNIROUTE_SMTP_PORT": None}},
    "voice_gateway": {"port": "OMNIROUTE_VOICE_HTTP_PORT",
                      "extra": {"OMNIROUTE_SIP_PORT": None, "OMNIROUTE_SIP_HOST": "127.0.0.1"}},
}


@pytest.mark.integration
@pytest.mark.parametrize("gateway", sorted(GATEWAYS))
def test_gateway_metrics_pass_promtool(gateway, promtool, infra, tmp_path):
    spec = GATEWAYS[gateway]
    port, *others = free_ports(1 + len(spec["extra"]))
    env = {**os.environ, "OMNIROUTE_OFFSET_RESET": "latest", spec["port"]: str(port),
           "OMNIROUTE_EMAIL_GROUP": f"ops-metrics-{port}"}
    for (k, v), other in zip(spec["extra"].items(), others, strict=True):
        env[k] = v if v is not None else str(other)
    log = open(tmp_path / "gateway.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", f"services.{gateway}"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline, text = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/metrics", follow_redirects=True, timeout=2)
                if r.status_code == 200 and "omniroute_" in r.text:
                    text = r.text
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert text, f"{gateway} served no /metrics: " + (tmp_path / "gateway.log").read_text()[-2000:]
        _run(promtool, "check", "metrics", stdin=text.encode())
    finally:
        proc.terminate()
        proc.wait(timeout=20)

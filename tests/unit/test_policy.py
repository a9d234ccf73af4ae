import pytest
import yaml
from pydantic import ValidationError

from shared.policy import DEFAULT_POLICY_FILE as DEFAULT_POLICY
from shared.policy import Policy, qualifications

pytestmark = pytest.mark.unit


@pytest.fixture
def policy() -> Policy:
    return Policy.model_validate(yaml.safe_load(DEFAULT_POLICY.read_text()))


def test_most_specific_route_wins(policy):
    assert policy.queue_for("billing", "chat") == "billing"
    assert policy.queue_for("complaint", "voice") == "complaints"
    assert policy.queue_for("unknown-intent", "email") == policy.default_queue


def test_tier_weight_becomes_a_head_start_in_ms(policy):
    assert policy.priority_offset_ms("basic", "general") == 0
    assert policy.priority_offset_ms("premium", "general") == 180_000
    # complaints are ordered by wait alone, whatever the tier
    assert policy.priority_offset_ms("premium", "complaint") == 0


def test_qualifications_follow_step_levels(policy):
    quals = {(q["q"], q["s"]) for q in qualifications(policy, {"billing": 2, "support": 1})}
    assert ("support", 0) in quals
    assert not any(q == "billing" for q, _ in quals)  # billing asks for level 3


def test_unknown_references_are_refused(policy):
    raw = policy.model_dump()
    raw["routes"] = [{"intent": "x", "queue": "nowhere"}]
    with pytest.raises(ValidationError, match="unknown queue 'nowhere'"):
        Policy.model_validate(raw)

import pytest

from shared import schemas
from shared.events import EVENT_MODELS

pytestmark = pytest.mark.unit


def test_generated_contracts_match_the_models():
    assert schemas.drift() == [], "run `python -m shared.schemas` and commit docs/"


def test_every_design_event_type_has_a_model():
    nouns = ["contact.created", "contact.updated", "contact.ended", "contact.queued", "offer.issued",
             "offer.accepted", "offer.declined", "offer.expired", "contact.assigned", "contact.requeued",
             "contact.escalated", "contact.abandoned", "contact.completed", "agent.state_changed",
             "message.posted", "survey.submitted"]
    assert {f"omniroute.{n}.v1" for n in nouns} <= set(EVENT_MODELS)


def test_asyncapi_lists_every_topic_and_message():
    doc = schemas.asyncapi()
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    assert "omniroute.deadletter" in addresses
    assert len(doc["components"]["messages"]) == len(EVENT_MODELS)


def test_the_published_openapi_document_matches_the_router():
    from tools import openapi

    assert not openapi.drifted(), "run `python -m tools.openapi` and commit docs/openapi.json"

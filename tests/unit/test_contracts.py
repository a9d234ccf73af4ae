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


def test_every_get_of_the_api_answers_a_typed_model():
    """No bare `dict` answers: each GET's 200 body is a named schema (or a list of one, or
    of strings), so the OpenAPI document says what comes back."""
    import json as _json

    from tools import openapi

    doc = _json.loads(openapi.rendered())
    untyped = []
    for path, ops in doc["paths"].items():
        if "get" not in ops or not path.startswith("/v1/"):
            continue
        schema = ops["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        schema = schema.get("items", schema)
        if "$ref" not in schema and schema.get("type") != "string":
            untyped.append(path)
    assert untyped == []

"""Pure chat rules: the customer protocol, conversation tokens, waiting estimates."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.chat_gateway.domain.chat import (
    CLOSE_BAD_FRAME,
    CLOSE_BAD_TOKEN,
    CLOSE_FORBIDDEN,
    MAX_TEXT,
    Leave,
    Pace,
    ProtocolError,
    Resume,
    Say,
    Start,
    Survey,
    estimated_wait_s,
    open_token,
    parse_frame,
    sign_conversation,
    window,
)
from services.chat_gateway.settings import ChatSettings

pytestmark = pytest.mark.unit


def frame(**kw) -> str:
    return json.dumps(kw)


def test_start_maps_topic_to_intent_and_email_to_a_stable_customer_id():
    f = parse_frame(frame(type="start", name=" Ann ", email="Ann@Example.com", topic="billing"))
    assert isinstance(f, Start)
    assert (f.name, f.intent, f.customer_key) == ("Ann", "billing", "email:ann@example.com")
    crm = parse_frame(frame(type="start", name="Ann", customer_id="C-42", email="ann@example.com"))
    assert crm.customer_key == "C-42"
    assert parse_frame(frame(type="start", name="Ann", customer_id="C-1", topic="complaint")).intent == "complaint"


@pytest.mark.parametrize("raw, reason", [
    ("nope", "frame is not JSON"),
    ("[1, 2]", "frame needs a string 'type'"),
    (frame(type="dance"), "type"),
    (frame(type="start", name="Ann"), "give an email or a customer id"),
    (frame(type="start", name="Ann", email="not-an-email"), "email is not valid"),
    (frame(type="start", name="Ann", email="a@b.co", topic="pizza"), "unknown topic"),
    (frame(type="start", name="", email="a@b.co"), "name"),
    (frame(type="start", name="Ann", customer_id="bad id!"), "customer_id"),
    (frame(type="message", text="   "), "text"),
    (frame(type="message", text="x" * (MAX_TEXT + 1)), "text"),
    (frame(type="message", text="hi", html="<b>"), "html"),
    (frame(type="survey"), "score"),
    (frame(type="survey", score=True), "score"),
    (frame(type="survey", score=4.5), "score"),
    (frame(type="survey", score=4, contact_id="chat-2"), "contact_id"),
    ("x" * 20_000, "frame too large"),
    (None, "binary frames are not supported"),
])
def test_bad_frames_are_refused_with_a_reason(raw, reason):
    with pytest.raises(ProtocolError) as err:
        parse_frame(raw)
    assert err.value.code == CLOSE_BAD_FRAME
    assert reason in err.value.reason
    assert len(err.value.reason.encode()) <= 123  # fits a WebSocket close frame


def test_good_frames():
    assert parse_frame(frame(type="message", text="  hello  ")) == Say(type="message", text="hello")
    assert isinstance(parse_frame(frame(type="leave")), Leave)
    assert isinstance(parse_frame(frame(type="resume", token="t", conversation_id="chat-1")), Resume)
    assert parse_frame(frame(type="survey", score=5)) == Survey(type="survey", score=5, comment="")
    assert parse_frame(frame(type="survey", score=1, comment=" meh ")).comment == "meh"


@given(st.text(max_size=300))
def test_any_text_is_a_frame_or_a_protocol_error(raw):
    try:
        parse_frame(raw)
    except ProtocolError as exc:
        assert exc.code == CLOSE_BAD_FRAME


def test_a_token_opens_only_its_own_conversation():
    token = sign_conversation("s3cret", "chat-a")
    assert open_token("s3cret", token, 60) == "chat-a"
    assert open_token("s3cret", token, 60, "chat-a") == "chat-a"
    with pytest.raises(ProtocolError) as other:
        open_token("s3cret", token, 60, "chat-b")
    assert other.value.code == CLOSE_FORBIDDEN
    for bad in (token + "x", token.replace(".", "!", 1), sign_conversation("other-secret", "chat-a"), ""):
        with pytest.raises(ProtocolError) as forged:
            open_token("s3cret", bad, 60)
        assert forged.value.code == CLOSE_BAD_TOKEN


def test_an_old_token_expires():
    token = sign_conversation("s3cret", "chat-a")
    with pytest.raises(ProtocolError) as expired:
        open_token("s3cret", token, -1)
    assert (expired.value.code, expired.value.reason) == (CLOSE_BAD_TOKEN, "conversation token expired")


def test_wait_estimate_uses_the_default_until_the_queue_has_a_pace():
    assert estimated_wait_s(3, Pace(), default_s=60) == 180
    first = Pace().after_assignment(1_000)
    assert first == Pace(1_000, 0.0)  # one assignment is no pace yet
    second = first.after_assignment(31_000)
    assert second.interval_ms == 30_000
    assert estimated_wait_s(2, second, default_s=60) == 60
    third = second.after_assignment(41_000)  # faster now: the average moves toward 10 s
    assert 10_000 < third.interval_ms < 30_000
    assert estimated_wait_s(0, third, 60) == 0


def test_a_long_idle_gap_is_capped():
    p = Pace(1_000, 20_000).after_assignment(1_000 + 10 * 3_600_000)
    assert p.interval_ms == 0.3 * 600_000 + 0.7 * 20_000


def test_rate_limit_windows():
    assert window(119.9, 60) == 1 and window(120.0, 60) == 2


def test_production_refuses_the_dev_secret():
    with pytest.raises(ValueError, match="OMNIROUTE_CHAT_SECRET"):
        ChatSettings(env="production")
    assert ChatSettings(env="production", chat_secret="x" * 32).chat_port == 8081

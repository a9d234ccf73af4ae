"""What a queued caller hears, and how prompts become RTP frames (pure)."""

import pytest

from services.voice_gateway.adapters.media import frames
from services.voice_gateway.domain.announce import left, phrases

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("position", "wait_s", "expected"), [
    (1, 180.0, ["you_are_number", "n1", "in_line", "wait_about", "n3", "minutes"]),
    (2, 70.0, ["you_are_number", "n2", "in_line", "wait_about", "n1", "minute"]),
    (4, 20.0, ["you_are_number", "n4", "in_line", "wait_under_minute"]),
    (11, 3600.0, ["wait_over"]),  # places beyond ten are not said
    (3, None, ["you_are_number", "n3", "in_line"]),  # nobody staffed: no estimate
    (None, 629.0, ["wait_about", "n10", "minutes"]),
])
def test_the_place_and_wait_said(position, wait_s, expected):
    assert phrases(position, wait_s) == expected


def test_the_wait_left_never_goes_below_nothing():
    assert left(180.0, 60.5) == 119.5 and left(30.0, 45.0) == 0.0


def test_an_announcement_is_framed_then_the_hold_audio_loops():
    words, hold = bytes(range(200)), b"\x01" * 100
    out = frames(words, hold, b"\xff")
    first, second, third = next(out), next(out), next(out)
    assert first == words[:160] and second == words[160:] + hold + hold[:20] and third == hold[20:] + hold[:80]


def test_without_hold_audio_the_last_frame_is_padded_with_silence_and_it_stops():
    assert list(frames(bytes(range(170)), b"", b"\xff")) == [bytes(range(160)), bytes(range(160, 170)) + b"\xff" * 150]

"""The recorded prompts of wait announcements (prompts/<name>.ul and .al: 8 kHz G.711
mu-law and A-law, made by tools/voice_prompts.py), in the call's codec."""

from __future__ import annotations

from pathlib import Path

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
LAWS = {0: "ul", 8: "al"}  # RTP payload type -> file suffix (PCMU, PCMA)


class Prompts:
    def __init__(self, folder: Path = PROMPTS):
        self.audio = {(f.stem, pt): f.read_bytes() for pt, law in LAWS.items() for f in folder.glob(f"*.{law}")}

    def say(self, names: list[str], payload_type: int) -> bytes:
        """The prompts one after the other; empty for a codec without recordings."""
        return b"".join(self.audio.get((n, payload_type), b"") for n in names)

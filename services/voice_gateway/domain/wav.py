"""A voicemail as a .wav file: the caller's G.711 as it came (A-law or mu-law WAV, format
tags 6 and 7), which every player reads, with no transcoding. Pure."""

from __future__ import annotations

import struct

FORMAT_TAGS = {"PCMA": 6, "PCMU": 7}
RATE = 8000


def g711_wav(audio: bytes, codec: str) -> bytes:
    """RIFF/WAVE with an 18-byte fmt chunk (non-PCM formats carry cbSize) and a fact chunk."""
    fmt = struct.pack("<HHIIHHH", FORMAT_TAGS[codec], 1, RATE, RATE, 1, 8, 0)
    fact = struct.pack("<I", len(audio))
    pad = b"\x00" if len(audio) % 2 else b""
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", len(fact)) + fact
              + b"data" + struct.pack("<I", len(audio)) + audio + pad)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks

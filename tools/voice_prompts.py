"""Regenerate the voice gateway's wait announcements (services/voice_gateway/prompts/).

Each phrase is spoken by espeak-ng, resampled to 8 kHz and encoded as G.711 mu-law
(`<name>.ul`) and A-law (`<name>.al`), the two codecs a call may have. The prompts are
committed, so neither the gateway nor its tests need espeak-ng; this needs it (Debian:
espeak-ng) and numpy.

    python -m tools.voice_prompts
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "services" / "voice_gateway" / "prompts"
NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
PHRASES = {
    "you_are_number": "You are number",
    "in_line": "in line.",
    "wait_about": "Your estimated wait is about",
    "wait_under_minute": "Your estimated wait is less than a minute.",
    "wait_over": "Your estimated wait is more than ten minutes.",
    "minute": "minute.",
    "minutes": "minutes.",
    **{f"n{i}": word for i, word in enumerate(NUMBERS, start=1)},
}
RATE = 8000


def spoken(text: str) -> np.ndarray:
    """16-bit samples at 8 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text], check=True)
        with wave.open(str(path)) as w:
            rate, raw = w.getframerate(), w.readframes(w.getnframes())
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    taps = np.arange(-64, 65)  # windowed sinc low-pass under 4 kHz before decimating
    fir = np.sinc(2 * 3600 / rate * taps) * np.hamming(len(taps))
    x = np.convolve(x, fir / fir.sum(), mode="same")
    t = np.arange(0, len(x) / rate, 1 / RATE)
    y = np.clip(np.interp(t, np.arange(len(x)) / rate, x), -32768, 32767).astype(np.int16)
    loud = np.flatnonzero(np.abs(y) > 300)  # trim the silence around it, keeping 80 ms each side
    return y[max(0, loud[0] - 640):loud[-1] + 640] if len(loud) else y


def ulaw(sample: int) -> int:
    """G.711 mu-law of a 16-bit sample (the ITU reference's segment search)."""
    pcm, mask = sample >> 2, 0xFF
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    pcm = min(pcm, 8159) + (0x84 >> 2)
    for seg, end in enumerate((0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)):
        if pcm <= end:
            return ((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask
    return 0x7F ^ mask


def alaw(sample: int) -> int:
    """G.711 A-law of a 16-bit sample."""
    pcm, mask = sample >> 3, 0xD5
    if pcm < 0:
        pcm, mask = -pcm - 1, 0x55
    for seg, end in enumerate((0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)):
        if pcm <= end:
            return ((seg << 4) | ((pcm >> 1 if seg < 2 else pcm >> seg) & 0xF)) ^ mask
    return 0x7F ^ mask


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in PHRASES.items():
        samples = [int(s) for s in spoken(text)]
        (OUT / f"{name}.ul").write_bytes(bytes(ulaw(s) for s in samples))
        (OUT / f"{name}.al").write_bytes(bytes(alaw(s) for s in samples))
        print(f"{name}: {len(samples) / RATE:.2f} s")


if __name__ == "__main__":
    main()

"""The voice gateway's HTTP app: health, readiness and metrics; the SIP endpoint and the
Kafka side run for the app's lifetime."""

from __future__ import annotations

from fastapi import FastAPI

from shared.http import service_app

from .bootstrap import VoiceService, build
from .settings import VoiceSettings


def create_app(settings: VoiceSettings | None = None, service: VoiceService | None = None) -> FastAPI:
    settings = settings or VoiceSettings()
    return service_app("Omniroute voice gateway", lambda: service or build(settings), settings.log_level)

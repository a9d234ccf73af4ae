"""The email gateway's HTTP app: /healthz, /readyz, /metrics; the gateway (SMTP, IMAP,
Kafka) runs for the app's lifetime."""

from __future__ import annotations

from fastapi import FastAPI

from shared.http import service_app

from .bootstrap import EmailService, build
from .settings import EmailSettings


def create_app(settings: EmailSettings | None = None, service: EmailService | None = None) -> FastAPI:
    settings = settings or EmailSettings()
    return service_app("Omniroute email gateway", lambda: service or build(settings), settings.log_level)

"""Voice e2e fixtures: the real router (tests/integration's harness) plus an in-process
voice gateway on free SIP ports, both on the session's real Kafka and Redis."""

import contextlib
import uuid
from pathlib import Path

import pytest

from services.voice_gateway.bootstrap import build
from services.voice_gateway.settings import VoiceSettings
from shared import topics
from tests.integration.conftest import harness, redis  # noqa: F401 -- re-exported fixtures
from tests.support.kafka_watch import Watch
from tests.support.poll import service_ready, until
from tests.voice.sipp import free_port

DIALPLAN = Path(__file__).with_name("dialplan.yaml")


@contextlib.asynccontextmanager
async def voice_gateway(harness, **overrides):  # noqa: F811
    """An in-process voice gateway on free SIP ports; `overrides` are VoiceSettings."""
    bootstrap = harness.service.settings.kafka_bootstrap
    settings = VoiceSettings(**{"kafka_bootstrap": bootstrap, "sip_host": "127.0.0.1", "sip_port": free_port(),
                                "voice_dialplan": DIALPLAN, "voice_transfer_timeout_s": 20, **overrides})
    service = build(settings, group=f"test-voice-{uuid.uuid4().hex[:8]}")
    await service.start()
    try:
        await until(lambda: service_ready(service), 30, what="voice gateway ready (SIP listening, Kafka assigned)")
        for tp in service.gateway.consumer.assignment():  # start at the end, now
            await service.gateway.consumer.position(tp)
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def voice(harness, infra):  # noqa: F811
    async with voice_gateway(harness) as service:
        yield service


@pytest.fixture
async def contacts_topic(infra):
    """What the gateway publishes: contact.created/updated/ended."""
    async with Watch(infra.kafka_bootstrap, topics.CONTACTS) as watch:
        yield watch

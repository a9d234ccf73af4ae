"""`python -m services.email_gateway` as its own process: env configuration, health,
metrics, a mail in over SMTP, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import httpx
import pytest

from shared import topics
from tests.email.helpers import POLICY, SUPPORT, addr, swaks
from tests.support.kafka_watch import Watch
from tests.support.poll import until
from tests.support.serve import free_port, ready

pytestmark = pytest.mark.email


async def test_gateway_runs_as_a_module(infra, redis, sink):
    http_port, smtp_port = free_port(), free_port()
    env = {**os.environ, "OMNIROUTE_KAFKA_BOOTSTRAP": addr(infra, "kafka_bootstrap"),
           "OMNIROUTE_REDIS_URL": addr(infra, "redis_url"), "OMNIROUTE_EMAIL_HTTP_PORT": str(http_port),
           "OMNIROUTE_SMTP_PORT": str(smtp_port), "OMNIROUTE_SMTP_RELAY_PORT": str(sink.port),
           "OMNIROUTE_EMAIL_ADDRESSES": json.dumps({SUPPORT: "general"}), "OMNIROUTE_POLICY_FILE": str(POLICY),
           "OMNIROUTE_EMAIL_GROUP": f"test-email-proc-{http_port}", "OMNIROUTE_OFFSET_RESET": "latest"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.email_gateway", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", trust_env=False) as http:
            await until(lambda: ready(http), 60, interval=0.2, what="email gateway /readyz")
            async with Watch(addr(infra, "kafka_bootstrap"), topics.CONTACTS) as contacts:
                r = await swaks(smtp_port, "--header", "Subject: From a process", "--header",
                                "Message-Id: <proc-1@example.com>", "--body", "hi")
                assert r.code == 0 and "<-  250 2.0.0 Message accepted" in r.transcript, r.transcript
                created = await contacts.wait("contact.created")
                assert created.data.metadata["message_id"] == "<proc-1@example.com>"
            await sink.wait("ann@example.com", "From a process")
            metrics = (await http.get("/metrics/")).text
            assert 'omniroute_email_received_total{outcome="created",source="smtp"} 1.0' in metrics
            assert 'omniroute_email_sent_total{kind="ack",result="ok"} 1.0' in metrics
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    # uvicorn re-raises SIGTERM after its graceful shutdown: the log proves the gateway stopped
    assert b'"event": "email_gateway_stopped"' in out, out.decode()[-2000:]

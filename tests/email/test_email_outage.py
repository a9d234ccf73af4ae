"""Kafka away: the SMTP gateway answers 451 (try again later), never a permanent 5xx, and
takes the same mail once Kafka is back. The broker is paused with SIGSTOP by the pid the
test tooling started."""

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
)

from shared.consumer_loop import is_transient
from tests.email.helpers import gateway_settings, start_gateway, swaks
from tests.email.test_email_e2e import header_args
from tests.integration.test_resilience import paused, pid_of  # noqa: F401  (fixture)
from tests.support.poll import until

pytestmark = pytest.mark.email


@pytest.mark.unit
def test_kafka_errors_that_pass_are_transient():
    assert is_transient(KafkaTimeoutError()) and is_transient(KafkaConnectionError("down"))
    assert not is_transient(MessageSizeTooLargeError())


async def test_smtp_answers_451_while_kafka_is_away_and_250_after(infra, harness, sink, pid_of):  # noqa: F811
    app, ctx = await start_gateway(gateway_settings(infra, sink, kafka_request_timeout_ms=2_000))
    try:
        port = app.state.service.smtp_port
        mail = [*header_args(Subject="While Kafka sleeps", Message_Id="<outage@example.com>"), "--body", "hi"]
        with paused(pid_of("kafka")):
            r = await swaks(port, *mail)
        assert r.code != 0 and "451 4.3.0" in r.transcript, r.transcript
        assert " 500 " not in r.transcript and " 554 " not in r.transcript

        async def delivered():
            again = await swaks(port, *mail)
            return again if again.code == 0 else None

        r = await until(delivered, 60, interval=1, what="the same mail accepted once Kafka is back")
        assert "250 " in r.transcript
    finally:
        await ctx.__aexit__(None, None, None)

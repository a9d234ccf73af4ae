"""Raw mail that could not become a contact goes to omniroute.deadletter, with the reason
(the headers of shared.kafka.dead_letter_headers)."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from shared import topics
from shared.kafka import dead_letter_headers

MAX_VALUE = 900_000  # under Kafka's default 1 MB record limit; the spool keeps the rest


async def dead_letter_mail(producer: AIOKafkaProducer, raw: bytes, reason: str, key: str, origin: str) -> None:
    headers = [*dead_letter_headers(reason, "email-gateway", origin=origin),  # smtp | imap | spool
               ("content-type", b"message/rfc822")]
    if len(raw) > MAX_VALUE:
        headers.append(("omniroute_dlq_truncated_from", str(len(raw)).encode()))
    await producer.send_and_wait(topics.DEADLETTER, value=raw[:MAX_VALUE], key=key.encode(), headers=headers)

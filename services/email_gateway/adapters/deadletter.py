"""Raw mail that could not become a contact goes to omniroute.deadletter, with the reason
(same headers as shared.kafka.dead_letter, which handles Kafka records)."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from shared import topics

MAX_VALUE = 900_000  # under Kafka's default 1 MB record limit; the spool keeps the rest


async def dead_letter_mail(producer: AIOKafkaProducer, raw: bytes, reason: str, key: str, origin: str) -> None:
    headers = [
        ("omniroute_dlq_reason", reason.encode()[:4000]),
        ("omniroute_dlq_service", b"email-gateway"),
        ("omniroute_dlq_origin", origin.encode()),  # smtp | imap | spool
        ("content-type", b"message/rfc822"),
    ]
    if len(raw) > MAX_VALUE:
        headers.append(("omniroute_dlq_truncated_from", str(len(raw)).encode()))
    await producer.send_and_wait(topics.DEADLETTER, value=raw[:MAX_VALUE], key=key.encode(), headers=headers)

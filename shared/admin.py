"""Explicit Kafka topic creation (docs/architecture.md: contracts: topics are never auto-created).

Used by deploy/local/infra.py, the test fixtures and any service start-up that wants
to be sure its topics exist. Safe to call repeatedly and from several replicas at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code

from shared import topics as _topics

_TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    bootstrap: str,
    *,
    partitions: int = 3,
    replication: int = 1,
    names: Iterable[str] = _topics.ALL,
    timeout_s: float = 30.0,
) -> dict[str, str]:
    """Create every topic in `names`; return {topic: "created" | "exists"}.

    An existing topic is left as it is (partition counts are not changed here: growing
    them re-shuffles keys across partitions, which is an operator's decision).
    """
    names = list(names)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    # The broker may still be electing itself controller right after start: retry
    # retriable errors until the deadline instead of failing the first attempt.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        await admin.start()
        while True:
            try:
                return await _create(admin, names, partitions, replication, timeout_s)
            except KafkaError as exc:
                if not exc.retriable or loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def _create(
    admin: AIOKafkaAdminClient,
    names: list[str],
    partitions: int,
    replication: int,
    timeout_s: float,
) -> dict[str, str]:
    resp = await admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=replication) for n in names],
        timeout_ms=int(timeout_s * 1000),
    )
    result: dict[str, str] = {}
    retriable: KafkaError | None = None
    # topic_errors rows are (name, code) or (name, code, message) depending on version.
    for name, code, *rest in resp.topic_errors:
        if code == 0:
            result[name] = "created"
        elif code == _TOPIC_ALREADY_EXISTS:
            result[name] = "exists"
        else:
            err = for_code(code)(f"creating topic {name}: {rest[0] if rest else code}")
            if not err.retriable:
                raise err
            retriable = err
    if retriable is not None:
        raise retriable  # ensure_topics retries; topics created so far answer "exists"
    return result

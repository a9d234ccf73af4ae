"""Every log line is one JSON object: ours (structlog) and the libraries' (stdlib logging:
aiokafka, asyncio; the services run uvicorn with log_config=None so its loggers reach the
same handler), with a level, a time and, for theirs, the logger's name."""

import json
import logging

import pytest

from shared import logging as log

pytestmark = pytest.mark.unit


def test_our_lines_and_library_lines_are_json(capsys):
    log.configure("INFO")
    log.get("router.test").info("contact_routed", contact_id="c-1")
    logging.getLogger("aiokafka.consumer").warning("Heartbeat failed for group %s", "g1")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("asyncio").exception("Task exception was never retrieved")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "contact_routed" and lines[0]["contact_id"] == "c-1" and lines[0]["level"] == "info"
    assert lines[1] == {"event": "Heartbeat failed for group g1", "level": "warning", "logger": "aiokafka.consumer",
                        "timestamp": lines[1]["timestamp"]}
    assert lines[2]["logger"] == "asyncio" and "ValueError: boom" in lines[2]["exception"]

"""Generate the JSON Schema of every event and the AsyncAPI 3 document from the models.

`python -m shared.schemas` writes docs/schemas/*.json and docs/asyncapi.yaml;
`python -m shared.schemas --check` exits 1 when the committed files drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from shared import topics
from shared.events import EVENT_MODELS

DOCS = Path(__file__).resolve().parent.parent / "docs"
TOPIC_DOCS = {
    topics.CONTACTS: "Gateways to router: new, updated and ended contacts; surveys.",
    topics.ROUTING: "Router to everyone: queueing, offers, assignment, completion.",
    topics.AGENTS: "Agent presence and state.",
    topics.MESSAGES: "Conversation messages, both ways, keyed by conversation id.",
    topics.DEADLETTER: "Events that failed validation or processing: original bytes and headers "
    "plus omniroute_dlq_reason.",
}
CE_HEADERS = {
    "type": "object",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string"},
        "ce_source": {"type": "string"},
        "ce_type": {"type": "string"},
        "ce_time": {"type": "string", "format": "date-time"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _name(type_: str) -> str:
    return type_.removeprefix("omniroute.").replace(".", "_")


def json_schemas() -> dict[str, dict]:
    out = {}
    for type_, (model, _) in EVENT_MODELS.items():
        schema = model.model_json_schema()
        schema["$id"] = f"https://omniroute.dev/schemas/{type_}.json"
        schema["title"] = type_
        out[f"{type_}.json"] = schema
    return out


def asyncapi() -> dict:
    messages, channels, operations = {}, {}, {}
    for type_, (model, topic) in EVENT_MODELS.items():
        name = _name(type_)
        messages[name] = {
            "name": type_,
            "title": model.__name__,
            "summary": (model.__doc__ or type_).strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {**CE_HEADERS, "properties": {**CE_HEADERS["properties"], "ce_type": {"type": "string", "const": type_}}},
            "payload": {"$ref": f"./schemas/{type_}.json"},
        }
    for topic in topics.ALL:
        cid = topic.replace(".", "_")
        refs = {_name(t): {"$ref": f"#/components/messages/{_name(t)}"} for t, (_, tp) in EVENT_MODELS.items() if tp == topic}
        channels[cid] = {"address": topic, "description": TOPIC_DOCS[topic], "messages": refs}
        operations[f"publish_{cid}"] = {"action": "send", "channel": {"$ref": f"#/channels/{cid}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Omniroute events", "version": "1.0.0",
                 "description": "CloudEvents 1.0 in Kafka binary mode: ce_* headers, JSON value, "
                 "key = contact id (conversation id for messages)."},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def rendered() -> dict[Path, str]:
    files = {DOCS / "schemas" / n: json.dumps(s, indent=2, sort_keys=True) + "\n" for n, s in json_schemas().items()}
    files[DOCS / "asyncapi.yaml"] = yaml.safe_dump(asyncapi(), sort_keys=False)
    return files


def drift() -> list[str]:
    return [str(p.relative_to(DOCS.parent)) for p, text in rendered().items()
            if not p.exists() or p.read_text() != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = drift()
        if stale:
            print("stale generated contracts (run `python -m shared.schemas`):", *stale, sep="\n  ")
            return 1
        return 0
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

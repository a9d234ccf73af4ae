"""The shape the code promises (docs/architecture.md): one door into the router, one
owner of the Redis key layout, event types from the contract. The import contracts
(layers, independence, no cycles) are import-linter's, run by `make test`."""

import re
from pathlib import Path

import pytest

from services.router.adapters import keys
from shared.events import EVENT_MODELS

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
ROUTER = ROOT / "services" / "router"
LUA = ROUTER / "adapters" / "lua"
KEY_LITERAL = re.compile(r"""["']or:""")


def sources(folder: Path, pattern: str = "*.py") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if "__pycache__" not in p.parts)


def test_router_entrypoints_neither_import_redis_nor_spell_keys():
    offenders = []
    for path in sources(ROUTER / "entrypoints"):
        text = path.read_text()
        if re.search(r"^\s*(import redis|from redis)", text, re.M) or KEY_LITERAL.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_only_the_key_layout_module_spells_routing_keys():
    """Python and Lua alike: every `or:` name comes from adapters/keys.py."""
    spelled = [str(p.relative_to(ROOT)) for p in [*sources(ROOT / "services"), *sources(LUA, "*.lua")]
               if p != ROUTER / "adapters" / "keys.py" and KEY_LITERAL.search(p.read_text())]
    assert spelled == []


def test_every_event_a_transition_emits_is_in_the_contract():
    emitted = set()
    for path in sources(LUA, "*.lua"):
        emitted |= set(re.findall(r"emit\('([a-z_]+\.[a-z_]+)'", path.read_text()))
    assert emitted, "no emit() found: the pattern no longer matches the scripts"
    contract = {t.removeprefix("omniroute.").removesuffix(".v1") for t in EVENT_MODELS}
    assert emitted <= contract, emitted - contract
    # offer outcomes are emitted as 'offer.' .. outcome
    assert {"offer.accepted", "offer.declined", "offer.expired"} <= contract


def test_the_lua_prelude_renders_the_same_keys_as_python():
    prelude = keys.lua_prelude()
    assert "local function k_wait(q, s, ch) return P .. 'wait:' .. q .. ':' .. s .. ':' .. ch end" in prelude
    assert keys.key("wait", "support", 0, "chat") == "or:{default}:wait:support:0:chat"
    for name in keys.TEMPLATES:
        assert f"local function k_{name}(" in prelude
    for t in EVENT_MODELS:
        assert f"= '{t}'" in prelude
    with pytest.raises(TypeError):
        keys.key("wait", "support")

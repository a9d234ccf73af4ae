"""Redis refusing writes for a while (out of memory here; a promoted replica's READONLY,
MASTERDOWN, BUSY and LOADING are classed the same way) pauses routing: the contact is
routed once Redis takes writes again, never dead-lettered."""

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from shared import metrics
from shared.consumer_loop import is_transient
from tests.integration.conftest import harness, redis  # noqa: F401  (fixtures)
from tests.support.poll import until

pytestmark = pytest.mark.integration


def pauses() -> float:
    return metrics.HANDLER_PAUSES.labels(loop="handler_paused")._value.get()


@pytest.mark.unit
def test_refusals_that_pass_are_transient_and_bugs_are_not():
    for reply in ("OOM command not allowed when used memory > 'maxmemory'",
                  "Error running script (call to f_1): @user_script:9: OOM command not allowed",
                  "READONLY You can't write against a read only replica.", "MASTERDOWN Link with MASTER is down",
                  "BUSY Redis is busy running a script.", "LOADING Redis is loading the dataset in memory"):
        assert is_transient(ResponseError(reply)), reply
    assert not is_transient(ResponseError("ERR wrong number of arguments for 'hset' command"))
    assert not is_transient(ValueError("a bug"))


async def config_set(redis, name: str, value: str) -> None:
    """On every node of a cluster (the routing keys live on one of them), or the server."""
    if isinstance(redis, RedisCluster):
        await redis.config_set(name, value, target_nodes=RedisCluster.ALL_NODES)
    else:
        await redis.config_set(name, value)


async def test_out_of_memory_pauses_routing_and_loses_nothing(harness, redis):  # noqa: F811
    await harness.agent("ann", {"support": 1})
    before = pauses()
    await config_set(redis, "maxmemory-policy", "noeviction")
    await config_set(redis, "maxmemory", "1")
    try:
        cid = await harness.contact()
        await until(lambda: pauses() > before, 20, what="the routing consumer paused on OOM")
    finally:
        await config_set(redis, "maxmemory", "0")
    offer = await harness.routing.wait("offer.issued", contact_id=cid, timeout=30)
    assert offer.data.agent_id == "ann"
    assert [r for r in harness.deadletter.raw if r.key == cid.encode()] == []

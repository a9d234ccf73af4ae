"""Per-contact order for consumers that keep state (CloudEvents `sequence` extension).

Events about one contact can reach Kafka out of order: each router replica relays the
outbox entries it read, and a replica that stalls between read and publish sends its
entries after newer ones. The router stamps every event with the order of the transition
that caused it (`sequence_of` its outbox entry id: fixed width, so it compares as text),
and a consumer that writes state applies an event only if it is newer than the last one
it applied to that contact (`update_if_newer`): a late event never regresses state.
"""

from __future__ import annotations

from redis.asyncio import Redis

# KEYS[1]: the consumer's hash for the contact; ARGV[1]: the event's sequence ('' for an
# unordered event: always applied); ARGV[2..]: field, value pairs to set. A hash marked
# `closed` (the conversation is over, whoever said so) takes no further routing news.
# Returns -1: no such hash (not this consumer's contact), 0: stale, ignored, 1: applied.
_UPDATE_IF_NEWER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local seq = ARGV[1]
if seq ~= '' and redis.call('HGET', KEYS[1], 'closed') == '1' then return 0 end
if seq ~= '' then
  local last = redis.call('HGET', KEYS[1], 'seq')
  if last and last >= seq then return 0 end
  redis.call('HSET', KEYS[1], 'seq', seq)
end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
return 1
"""
MISSING, STALE, APPLIED = -1, 0, 1


def sequence_of(stream_id: str) -> str:
    """A Redis stream entry id ('1732700000000-3') as text that sorts in entry order."""
    ms, n = stream_id.split("-")
    return f"{int(ms):015d}-{int(n):010d}"


async def update_if_newer(redis: Redis, key: str, sequence: str | None, fields: dict[str, str]) -> int:
    flat = [str(x) for pair in fields.items() for x in pair]
    return int(await redis.eval(_UPDATE_IF_NEWER, 1, key, sequence or "", *flat))

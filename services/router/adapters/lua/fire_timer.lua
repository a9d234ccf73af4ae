-- ARGV: now, member. Fires a due timer; re-checks state so firing twice is harmless.
local member = ARGV[2]
local due = redis.call('ZSCORE', K_TIMERS, member)
if not due or tonumber(due) > NOW then return 'not_due' end
redis.call('ZREM', K_TIMERS, member)
local kind, id = string.match(member, '^(%a+):(.+)$')
if kind == 'offer' then
  local o = hgetall(k_offer(id))
  if not o or o.state ~= 'pending' then return 'stale' end
  redis.call('HINCRBY', k_agent(o.agent), 'misses', 1)
  close_offer(id, o, 'expired', 'timeout')
  return 'expired'
end
return 'unknown'

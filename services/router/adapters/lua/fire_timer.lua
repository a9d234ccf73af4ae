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
if kind == 'presence' then
  local a = load_agent(id)
  if not a or a.state == 'offline' then return 'stale' end
  set_agent_state(a, 'offline', 'presence_timeout')
  refresh_pools(a)
  for _, oid in ipairs(redis.call('SMEMBERS', k_agent(id) .. ':offers')) do
    local o = hgetall(k_offer(oid))
    if o and o.state == 'pending' then close_offer(oid, o, 'expired', 'agent_offline') end
  end
  return 'offline'
end
return 'unknown'

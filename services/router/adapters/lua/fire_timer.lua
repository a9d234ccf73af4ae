-- ARGV: now, member. Fires a due timer; re-checks state so firing twice is harmless.
-- Members: offer:<id> | presence:<agent> | wrapup:<agent> | step:<contact>:<step> |
--          maxwait:<contact> | pref:<contact> | retry:<contact> | open:<contact> |
--          hold:<contact> (best_outcome: the wait for a better agent ran out)
local member = ARGV[2]
local due = redis.call('ZSCORE', K_TIMERS, member)
if not due or tonumber(due) > NOW then return 'not_due' end
disarm(member)
local kind, id = string.match(member, '^(%a+):(.+)$')

if kind == 'offer' then
  local o = hgetall(k_offer(id))
  if not o or o.state ~= 'pending' then return 'stale' end
  -- A timeout is a miss; a run of them pauses the agent before they are offered more.
  local misses = redis.call('HINCRBY', k_agent(o.agent), 'misses', 1)
  local a = load_agent(o.agent)
  local paused = a and a.state == 'available' and misses >= (POLICY.max_missed_offers or 3)
  if paused then
    set_agent_state(a, 'not_ready', 'missed_offers')
    redis.call('HSET', k_agent(o.agent), 'misses', 0)
    refresh_pools(a)
  end
  if paused then
    withdraw_offers(o.agent, 'agent_not_ready')  -- this offer and the rest, in queue order
    return 'paused'
  end
  close_offer(id, o, 'expired', 'timeout')
  return 'expired'
end

if kind == 'presence' then
  local a = load_agent(id)
  if not a or a.state == 'offline' then return 'stale' end
  go_offline(a, 'presence_timeout')
  return 'offline'
end

if kind == 'wrapup' then
  local a = load_agent(id)
  if not a or a.state ~= 'wrapup' then return 'stale' end
  set_agent_state(a, 'available', '')
  refresh_pools(a)
  pull_for_agent(a)
  return 'available'
end

if kind == 'step' then
  local cid, n = string.match(id, '^(.*):(%d+)$')
  n = tonumber(n)
  local c = cid and load_contact(cid)
  if not c or c.step ~= n - 1 or (c.state ~= 'queued' and c.state ~= 'offered') then return 'stale' end
  if not still_served(c) then  -- a policy change dropped its queue: it goes home (or on return)
    if c.state == 'queued' then home_again(c) end
    return 'stale'
  end
  advance_step(c, n)
  push_contact(c)
  return 'escalated'
end

if kind == 'open' then  -- its queue opened (or a retry is due): it joins it at its place
  local c = load_contact(id)
  if not c or c.state ~= 'scheduled' then return 'stale' end
  if c.deferred == 'retry' then  -- a callback to try again: it was queued before
    redis.call('HSET', k_contact(id), 'deferred', '')
    emit('contact.requeued', id, {contact_id = id, queue = c.queue, reason = 'callback_retry'})
  else
    emit_queued(c, cjson.decode(c.skills or '[]'))
  end
  if still_served(c) then enter_queue(c, c.queue) else rehome(c) end
  if c.state == 'queued' then settle_new(c) end
  return 'opened'
end

local c = load_contact(id)
if not c then return 'stale' end
if not still_served(c) then  -- a policy change dropped its queue: it goes home (or on return)
  if c.state == 'queued' then home_again(c) end
  return 'stale'
end

if kind == 'maxwait' then
  if c.state == 'offered' then
    -- Let the offer play out; overflow happens if it comes back (requeue).
    redis.call('HSET', k_contact(id), 'overdue', '1')
    return 'overdue'
  end
  if c.state ~= 'queued' then return 'stale' end
  overflow(c, 'max_wait')
  settle_new(c)
  return 'overflowed'
end

if kind == 'pref' then
  if c.pref == '' then return 'stale' end
  unprefer(c)
  if c.state == 'queued' then push_contact(c) end
  return 'released'
end

if kind == 'hold' then
  if c.state ~= 'queued' then return 'stale' end
  push_contact(c)
  return 'released'
end

if kind == 'retry' then
  if c.state ~= 'queued' then return 'stale' end
  push_contact(c, true)
  return 'retried'
end
return 'unknown'

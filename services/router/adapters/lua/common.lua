-- Shared helpers, prepended to every transition script. Each script is one atomic
-- Redis transition: it re-checks contact and agent state, changes both, and appends
-- the events it causes to the outbox stream (no dual writes).
local NOW = tonumber(ARGV[1])
if not NOW then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function k_agent(id) return 'or:agent:' .. id end
local function k_contact(id) return 'or:contact:' .. id end
local function k_offer(id) return 'or:offer:' .. id end
local function k_pool(q, s, ch) return 'or:pool:' .. q .. ':' .. s .. ':' .. ch end
local function k_wait(q, s, ch) return 'or:wait:' .. q .. ':' .. s .. ':' .. ch end
local K_TIMERS = 'or:timers'

local POLICY = cjson.decode(redis.call('GET', 'or:policy') or '{"channels":{},"queues":{}}')

local function emit(etype, key, data)
  redis.call('XADD', 'or:outbox', '*', 'type', etype, 'key', key, 'time', NOW, 'data', cjson.encode(data))
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function load_agent(id)
  local a = hgetall(k_agent(id))
  if not a then return nil end
  a.id = id
  a.capacity = tonumber(a.capacity)
  a.load = tonumber(a.load or 0)
  a.idle_since = tonumber(a.idle_since or 0)
  a.rr = tonumber(a.rr or 0)
  a.channels = cjson.decode(a.channels or '[]')
  a.quals = cjson.decode(a.quals or '[]')
  a.busy = cjson.decode(a.busy or '{}')
  return a
end

local function load_contact(id)
  local c = hgetall(k_contact(id))
  if not c then return nil end
  c.id = id
  c.score = tonumber(c.score)
  c.step = tonumber(c.step or 0)
  c.enqueued_at = tonumber(c.enqueued_at)
  return c
end

local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

-- Can this agent take one more contact of channel `ch` right now?
local function can_take(a, ch)
  if a.state ~= 'available' then return false end
  local cp = POLICY.channels[ch]
  if not cp or not has(a.channels, ch) then return false end
  if a.load + cp.cost > a.capacity then return false end
  for other, n in pairs(a.busy) do
    if n > 0 then
      local op = POLICY.channels[other]
      if op and has(op.blocks, ch) then return false end
    end
  end
  return true
end

-- Lower score = offered first, per the queue's agent-selection strategy.
local function pool_score(a, qual, strategy)
  if strategy == 'most_skilled' then return -qual.sk end
  if strategy == 'least_occupied' then return a.load end
  if strategy == 'round_robin' then return a.rr end
  return a.idle_since
end

-- Keep the agent in exactly the (queue, step, channel) pools it can take work from.
local function refresh_pools(a)
  for _, qual in ipairs(a.quals) do
    local qp = POLICY.queues[qual.q]
    if qp then
      for _, ch in ipairs(qp.channels) do
        local key = k_pool(qual.q, qual.s, ch)
        if can_take(a, ch) then
          redis.call('ZADD', key, pool_score(a, qual, qp.strategy), a.id)
        else
          redis.call('ZREM', key, a.id)
        end
      end
    end
  end
end

local function leave_pools(a)
  for _, qual in ipairs(a.quals) do
    local qp = POLICY.queues[qual.q]
    if qp then
      for _, ch in ipairs(qp.channels) do redis.call('ZREM', k_pool(qual.q, qual.s, ch), a.id) end
    end
  end
end

local function save_agent_load(a)
  redis.call('HSET', k_agent(a.id), 'load', a.load, 'busy', cjson.encode(a.busy), 'rr', a.rr,
    'idle_since', a.idle_since)
end

local function set_agent_state(a, state, reason)
  if a.state == state and (a.reason or '') == (reason or '') then return end
  a.state = state
  a.reason = reason or ''
  redis.call('HSET', k_agent(a.id), 'state', state, 'reason', a.reason)
  emit('omniroute.agent.state_changed.v1', a.id, {agent_id = a.id, state = state, reason = a.reason})
end

local function declined_by(cid, aid)
  return redis.call('SISMEMBER', k_contact(cid) .. ':declined', aid) == 1
end

local function offer_contact(c, a)
  local cost = POLICY.channels[c.channel].cost
  local oid = 'of-' .. redis.call('INCR', 'or:seq:offer')
  local expires = NOW + (POLICY.offer_timeout_ms or 20000)
  redis.call('HSET', k_offer(oid), 'contact', c.id, 'agent', a.id, 'state', 'pending',
    'issued_at', NOW, 'expires_at', expires, 'queue', c.queue, 'channel', c.channel)
  redis.call('ZREM', k_wait(c.queue, c.step, c.channel), c.id)
  redis.call('HSET', k_contact(c.id), 'state', 'offered', 'offer', oid, 'agent', a.id)
  c.state = 'offered'
  a.load = a.load + cost
  a.busy[c.channel] = (a.busy[c.channel] or 0) + 1
  a.rr = tonumber(redis.call('INCR', 'or:seq:rr'))
  save_agent_load(a)
  redis.call('SADD', k_agent(a.id) .. ':offers', oid)
  redis.call('ZADD', K_TIMERS, expires, 'offer:' .. oid)
  refresh_pools(a)
  emit('omniroute.offer.issued.v1', c.id, {offer_id = oid, contact_id = c.id, agent_id = a.id,
    queue = c.queue, channel = c.channel, expires_at_ms = expires})
  return oid
end

-- Give a waiting contact to the best eligible agent of its pool, if any.
local function push_contact(c)
  local ids = redis.call('ZRANGE', k_pool(c.queue, c.step, c.channel), 0, 9)
  for _, aid in ipairs(ids) do
    if not declined_by(c.id, aid) then
      local a = load_agent(aid)
      if a and can_take(a, c.channel) then return offer_contact(c, a) end
    end
  end
  return nil
end

-- A freed agent takes the best waiting contacts across every queue it serves.
local function pull_for_agent(a)
  for _ = 1, 10 do
    local best_id, best_score = nil, nil
    for _, qual in ipairs(a.quals) do
      local qp = POLICY.queues[qual.q]
      if qp then
        for _, ch in ipairs(qp.channels) do
          if can_take(a, ch) then
            local head = redis.call('ZRANGE', k_wait(qual.q, qual.s, ch), 0, 4, 'WITHSCORES')
            for i = 1, #head, 2 do
              local score = tonumber(head[i + 1])
              if not declined_by(head[i], a.id) then
                if not best_score or score < best_score then best_id, best_score = head[i], score end
                break
              end
            end
          end
        end
      end
    end
    if not best_id then return end
    offer_contact(load_contact(best_id), a)
  end
end

-- Give capacity back after an offer or a contact ends.
local function release(a, channel)
  local cost = POLICY.channels[channel] and POLICY.channels[channel].cost or 0
  a.load = math.max(0, a.load - cost)
  a.busy[channel] = math.max(0, (a.busy[channel] or 0) - 1)
end

local function requeue(c, reason)
  redis.call('HSET', k_contact(c.id), 'state', 'queued', 'offer', '', 'agent', '')
  c.state = 'queued'
  -- The original score keeps the contact's original place.
  redis.call('ZADD', k_wait(c.queue, c.step, c.channel), c.score, c.id)
  emit('omniroute.contact.requeued.v1', c.id, {contact_id = c.id, queue = c.queue, reason = reason})
end

-- End a pending offer (declined, expired, agent gone) and route both sides again.
local function close_offer(oid, o, outcome, reason)
  local a = load_agent(o.agent)
  local c = load_contact(o.contact)
  redis.call('HSET', k_offer(oid), 'state', outcome)
  redis.call('ZREM', K_TIMERS, 'offer:' .. oid)
  redis.call('SREM', k_agent(o.agent) .. ':offers', oid)
  redis.call('SADD', k_contact(o.contact) .. ':declined', o.agent)
  local data = {offer_id = oid, contact_id = o.contact, agent_id = o.agent}
  if outcome == 'declined' then data.reason = reason or '' end
  emit('omniroute.offer.' .. outcome .. '.v1', o.contact, data)
  if a then
    release(a, o.channel)
    save_agent_load(a)
    refresh_pools(a)
  end
  if c and c.state == 'offered' and c.offer == oid then
    requeue(c, 'offer_' .. outcome)
    push_contact(c)
  end
  if a then pull_for_agent(a) end
  return a, c
end

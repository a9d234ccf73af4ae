-- Shared helpers, prepended to every transition script. Each script is one atomic
-- Redis transition: it re-checks contact and agent state, changes both, and appends
-- the events it causes to the outbox stream (no dual writes).
--
-- Indexes (all O(log n) to read the best candidate), each under the domain's prefix P
-- (or:{<domain>}:, one Redis Cluster slot):
--   pool:<q>:<step>:<ch>   zset of available agents who meet the step and can take ch,
--                          ordered by the queue's strategy (lowest first)
--   staff:<q>:<step>:<ch>  set of logged-in agents who meet the step (skip_if_no_eligible)
--   serving:<q>:<step>:<ch> of those, the ones working (available or in wrap-up): estimates
--   returning:<q>:<step>:<ch> of those, the ones on a planned break, by when due back
--   wait:<q>:<step>:<ch>   zset of waiting contacts, score = arrival - tier/priority lead
--   prefwait:<agent>       zset of returning customers held for their last agent
--   timers                 zset of durable timers (offer, step, maxwait, pref, retry,
--                          wrapup, presence), fired by any replica via fire_timer.lua
-- ARGV[1]: "<now ms>|<traceparent>", both optional: the routing clock ('' = Redis time)
-- and the trace the transition runs in (docs/architecture.md: tracing).
local NOW_ARG, TRACEPARENT = string.match(ARGV[1], '^([^|]*)|?(.*)$')
local NOW = tonumber(NOW_ARG)
if not NOW then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local POLICY = cjson.decode(redis.call('GET', K_POLICY) or '{"channels":{},"queues":{}}')

-- Each contact's trace (its `tp`, from where it was created), as load_contact met it: the
-- events about a contact carry it, whichever transition emits them.
local CONTACT_TRACE = {}

-- `name` is the contract's noun.verb (EVENT_TYPES, generated from EVENT_MODELS).
local function emit(name, key, data)
  local etype = EVENT_TYPES[name]
  if not etype then error('not an event of the contract: ' .. name) end
  local tp = CONTACT_TRACE[data.contact_id or key] or TRACEPARENT
  if tp and tp ~= '' then
    redis.call('XADD', K_OUTBOX, '*', 'type', etype, 'key', key, 'time', NOW, 'data', cjson.encode(data), 'tp', tp)
  else
    redis.call('XADD', K_OUTBOX, '*', 'type', etype, 'key', key, 'time', NOW, 'data', cjson.encode(data))
  end
end

-- Event dedupe: true the first time `key` is seen. Kept DEDUPE_TTL_S (a setting, at
-- least as long as Kafka may redeliver the event).
local function first_time(key)
  return redis.call('SET', key, '1', 'NX', 'EX', DEDUPE_TTL_S) ~= false
end

-- A contact that ended (completed, abandoned, overflowed) with its offer and declined
-- set, and an offer that closed unaccepted, are kept RETENTION_S (a setting) for reports
-- and late events, then expire; a live contact's keys never do.
local function retire_offer(oid) redis.call('EXPIRE', k_offer(oid), RETENTION_S) end

local function retire_contact(cid)
  local oid = redis.call('HGET', k_contact(cid), 'offer')
  if oid and oid ~= '' then retire_offer(oid) end
  redis.call('EXPIRE', k_contact(cid), RETENTION_S)
  redis.call('EXPIRE', k_contact_declined(cid), RETENTION_S)
end

local function arm(member, due) redis.call('ZADD', K_TIMERS, due, member) end
local function disarm(member) redis.call('ZREM', K_TIMERS, member) end

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
  a.idx = cjson.decode(a.idx or '{}')
  a.due = tonumber(a.due or '')  -- when a planned break ends (ms), while on one
  -- Agents indexed before `idx` existed listed their keys in `pools`: dropped, then rebuilt.
  a.legacy = a.pools ~= nil
  for _, key in ipairs(cjson.decode(a.pools or '[]')) do a.idx[key] = a.idx[key] or 'legacy' end
  return a
end

local function load_contact(id)
  local c = hgetall(k_contact(id))
  if not c then return nil end
  c.id = id
  c.score = tonumber(c.score)
  c.step = tonumber(c.step or 0)
  c.enqueued_at = tonumber(c.enqueued_at)
  c.arrival = tonumber(c.arrival or c.enqueued_at)
  c.qstart = tonumber(c.qstart or c.enqueued_at)
  c.pref = c.pref or ''
  c.conv = c.conv or ''
  if c.tp then CONTACT_TRACE[id] = c.tp end
  return c
end

local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

-- Arrival times are strictly increasing (1/4096 ms apart at worst, exact in a double),
-- so equal priority is FIFO even within one millisecond and across queues.
local function next_arrival()
  local last = tonumber(redis.call('GET', K_CLOCK) or '0')
  local t = math.max(NOW, last + 1 / 4096)
  redis.call('SET', K_CLOCK, t)
  return t
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

-- Lower score = offered first, per the queue's agent-selection strategy. A primary key
-- sits above 2^42 ms; idle_since (time the agent's last contact ended) breaks ties.
local SLOT = 4398046511104
local function pool_score(a, qual, strategy)
  if strategy == 'most_skilled' then return -qual.sk * SLOT + a.idle_since end
  if strategy == 'least_occupied' then return math.floor(a.load * 100 / a.capacity) * SLOT + a.idle_since end
  if strategy == 'round_robin' then return a.rr end
  -- longest idle: agents with no work first, then longest since their last contact ended
  return (a.load > 0 and SLOT or 0) + a.idle_since
end

local function drop_index(key, aid)
  if string.sub(key, 1, #K_POOL_PREFIX) == K_POOL_PREFIX
    or string.sub(key, 1, #K_RETURNING_PREFIX) == K_RETURNING_PREFIX then redis.call('ZREM', key, aid)
  else redis.call('SREM', key, aid) end
end

-- Keep the agent in exactly the (queue, step, channel) pools it can take work from (at
-- the score its queue's strategy gives) and the staff sets it counts in. What was written
-- last is remembered on the agent (`idx`: key -> score, or true for a staff set), so only
-- what changed is written, and a policy change (queues or channels removed) never
-- leaves a stale entry behind.
local function refresh_pools(a)
  local want = {}
  for _, qual in ipairs(a.quals) do
    local qp = POLICY.queues[qual.q]
    if qp then
      for _, ch in ipairs(qp.channels) do
        if can_take(a, ch) then want[k_pool(qual.q, qual.s, ch)] = pool_score(a, qual, qp.strategy) end
        if a.state ~= 'offline' and has(a.channels, ch) then
          want[k_staff(qual.q, qual.s, ch)] = true
          if a.state ~= 'not_ready' then want[k_serving(qual.q, qual.s, ch)] = true
          elseif a.due then want[k_returning(qual.q, qual.s, ch)] = a.due end
        end
      end
    end
  end
  local changed = false
  for key, v in pairs(want) do
    if a.idx[key] ~= v then
      if v == true then redis.call('SADD', key, a.id) else redis.call('ZADD', key, v, a.id) end
      changed = true
    end
  end
  for key in pairs(a.idx) do
    if want[key] == nil then drop_index(key, a.id); changed = true end
  end
  if changed then
    a.idx = want
    redis.call('HSET', k_agent(a.id), 'idx', cjson.encode(want))
  end
  if a.legacy then redis.call('HDEL', k_agent(a.id), 'pools'); a.legacy = false end
end

local function leave_pools(a)
  for key in pairs(a.idx) do drop_index(key, a.id) end
  for _, qual in ipairs(a.quals) do
    local qp = POLICY.queues[qual.q]
    if qp then
      for _, ch in ipairs(qp.channels) do
        redis.call('ZREM', k_pool(qual.q, qual.s, ch), a.id)
        redis.call('SREM', k_staff(qual.q, qual.s, ch), a.id)
        redis.call('SREM', k_serving(qual.q, qual.s, ch), a.id)
        redis.call('ZREM', k_returning(qual.q, qual.s, ch), a.id)
      end
    end
  end
  a.idx = {}
  redis.call('HSET', k_agent(a.id), 'idx', '{}')
  if a.legacy then redis.call('HDEL', k_agent(a.id), 'pools'); a.legacy = false end
end

local function save_agent_load(a)
  redis.call('HSET', k_agent(a.id), 'load', a.load, 'busy', cjson.encode(a.busy), 'rr', a.rr,
    'idle_since', a.idle_since)
end

local function set_agent_state(a, state, reason)
  if a.state == state and (a.reason or '') == (reason or '') then return end
  a.state = state
  a.reason = reason or ''
  -- A planned break (Policy.planned_breaks_s) is due to end: estimates count the agent then.
  local planned = state == 'not_ready' and POLICY.break_ms and POLICY.break_ms[a.reason]
  a.due = planned and NOW + planned or nil
  redis.call('HSET', k_agent(a.id), 'state', state, 'reason', a.reason, 'due', a.due or '')
  emit('agent.state_changed', a.id, {agent_id = a.id, state = state, reason = a.reason})
end

local function declined_by(cid, aid)
  return redis.call('SISMEMBER', k_contact_declined(cid), aid) == 1
end

-- Every change to a queue's waiting sets goes through these two, which keep the count of
-- contacts waiting per queue (K_WAITING): a freed agent skips queues nobody waits in.
local function wait_add(q, s, ch, score, cid)
  if redis.call('ZADD', k_wait(q, s, ch), score, cid) == 1 then redis.call('HINCRBY', K_WAITING, q, 1) end
end

local function wait_rem(q, s, ch, cid)
  if redis.call('ZREM', k_wait(q, s, ch), cid) == 1 then redis.call('HINCRBY', K_WAITING, q, -1) end
end

-- Put a queued contact where it waits: with its last agent, or in its queue step.
local function wait_put(c)
  if c.pref ~= '' then redis.call('ZADD', k_prefwait(c.pref), c.score, c.id)
  else wait_add(c.queue, c.step, c.channel, c.score, c.id) end
end

local function leave_wait(c)
  wait_rem(c.queue, c.step, c.channel, c.id)
  if c.pref ~= '' then redis.call('ZREM', k_prefwait(c.pref), c.id) end
end

-- Re-prioritise a contact (tier, priority or escalation changed): one ZADD, effective at
-- once. `offset_ms` is its lead over its arrival time (Policy.priority_offset_ms).
local function rescore_contact(c, offset_ms)
  c.score = c.arrival - offset_ms
  redis.call('HSET', k_contact(c.id), 'score', c.score, 'offset', offset_ms)
  if c.state == 'queued' then wait_put(c) end
end

-- An offer of contact `c` to agent `a` (for queue `q`): its record, the capacity it
-- reserves, its timer and offer.issued. `extra`: more fields of the offer record.
local function issue_offer(c, a, q, extra)
  local cost = POLICY.channels[c.channel].cost
  local oid = 'of-' .. redis.call('INCR', K_SEQ_OFFER)
  local expires = NOW + (POLICY.offer_timeout_ms or 20000)
  redis.call('HSET', k_offer(oid), 'contact', c.id, 'agent', a.id, 'state', 'pending',
    'issued_at', NOW, 'expires_at', expires, 'queue', q, 'channel', c.channel, 'cost', cost)
  if extra then redis.call('HSET', k_offer(oid), unpack(extra)) end
  a.load = a.load + cost
  a.busy[c.channel] = (a.busy[c.channel] or 0) + 1
  a.rr = tonumber(redis.call('INCR', K_SEQ_RR))
  save_agent_load(a)
  redis.call('SADD', k_agent_offers(a.id), oid)
  arm('offer:' .. oid, expires)
  refresh_pools(a)
  emit('offer.issued', c.id, {offer_id = oid, contact_id = c.id, agent_id = a.id,
    queue = q, channel = c.channel, expires_at_ms = expires})
  return oid, cost
end

local function offer_contact(c, a)
  leave_wait(c)
  local oid, cost = issue_offer(c, a, c.queue)
  -- The cost reserved is remembered: it is given back even if the policy changes meanwhile.
  redis.call('HSET', k_contact(c.id), 'state', 'offered', 'offer', oid, 'agent', a.id, 'cost', cost)
  c.state = 'offered'
  return oid
end

-- An agent handed contact `c` on (to `to_agent` or a queue): the transfer is noted on
-- the contact for the next agent, who is announced as joining, and published.
local function note_transfer(c, from_agent, kind, q, to_agent, note, reason, warm)
  local meta = cjson.decode(c.meta or '{}')
  meta.transfer = {from_agent = from_agent, kind = kind, queue = q, agent = to_agent or cjson.null,
    note = note or '', reason = reason or '', at_ms = NOW, warm = warm or false}
  c.transfers, c.meta = tonumber(c.transfers or '0') + 1, cjson.encode(meta)
  redis.call('HSET', k_contact(c.id), 'meta', c.meta, 'transfers', c.transfers)
  redis.call('HDEL', k_contact(c.id), 'joined')
  emit('contact.transferred', c.id, {contact_id = c.id, channel = c.channel, from_agent = from_agent,
    from_queue = c.queue, queue = q, to_agent = to_agent or cjson.null, kind = kind, reason = reason or '',
    note = note or '', warm = warm or false})
end

-- Each queue and channel's recent handle time, kept by the completing transition: the
-- mean of the first HANDLE_MEMORY contacts, then a moving average over about as many (a
-- shorter memory would carry a single handle time's randomness into every estimate).
-- For wait estimates it is the agent's time from the offer on (the offer holds their
-- capacity), not only from the accept.
local HANDLE_MEMORY, HANDLE_DEFAULT_MS, HANDLE_TTL_S = 50, 180000, 7 * 86400
local function queue_handle_ms(q, ch)
  return tonumber(redis.call('HGET', k_handle_time(q, ch), 'ms') or '') or HANDLE_DEFAULT_MS
end

local function note_handle_time(q, ch, handle_ms)
  local key = k_handle_time(q, ch)
  local f = redis.call('HMGET', key, 'ms', 'n')
  local old, n = tonumber(f[1]), (tonumber(f[2]) or 0) + 1
  local ms = old and old + (handle_ms - old) / math.min(n, HANDLE_MEMORY) or handle_ms
  redis.call('HSET', key, 'ms', math.floor(ms), 'n', math.min(n, HANDLE_MEMORY))
  redis.call('EXPIRE', key, HANDLE_TTL_S)
end

-- The best_outcome strategy (learning.lua, appended after this file): which free agent
-- a contact goes to, and whether a freed agent must leave a contact held for a better one.
local push_best, held_from

-- When only agents who declined a contact could take it, they get it again after a
-- pause (retry timer) rather than never; NX keeps the first due time.
local function arm_reoffer(cid)
  redis.call('ZADD', K_TIMERS, 'NX', NOW + (POLICY.reoffer_delay_ms or 10000), 'retry:' .. cid)
end

-- Only agents who declined contact `c` could take it: the first of them now when the
-- re-offer timer found nobody else (`allow_declined`), else a re-offer later.
local function offer_to_decliner(c, decliner, allow_declined)
  if not decliner then return nil end
  if allow_declined then return offer_contact(c, decliner) end
  arm_reoffer(c.id)
  return nil
end

-- Give a waiting contact to the best eligible agent of its pool, if any. Decliners are
-- skipped unless `allow_declined` (the re-offer timer found nobody else).
local function push_contact(c, allow_declined)
  if c.state ~= 'queued' then return nil end
  if c.pref ~= '' then
    local a = load_agent(c.pref)
    if a and can_take(a, c.channel) and not declined_by(c.id, a.id) then return offer_contact(c, a) end
    return nil
  end
  if POLICY.queues[c.queue].strategy == 'best_outcome' then return push_best(c, allow_declined) end
  local ids = redis.call('ZRANGE', k_pool(c.queue, c.step, c.channel), 0, 9)
  local decliner = nil
  for _, aid in ipairs(ids) do
    local a = load_agent(aid)
    if a and can_take(a, c.channel) then
      if not declined_by(c.id, aid) then return offer_contact(c, a) end
      decliner = decliner or a
    end
  end
  return offer_to_decliner(c, decliner, allow_declined)
end

-- The best contact this agent could take now: its own returning customers first, then
-- the lowest score across the heads of every waiting set it qualifies for.
local function best_waiting(a)
  for _, cid in ipairs(redis.call('ZRANGE', k_prefwait(a.id), 0, 4)) do
    local c = load_contact(cid)
    if c and can_take(a, c.channel) and not declined_by(cid, a.id) then return cid, nil end
  end
  local queues, waiting = {}, {}
  for _, qual in ipairs(a.quals) do
    if not waiting[qual.q] then waiting[qual.q] = 0; queues[#queues + 1] = qual.q end
  end
  if #queues > 0 then
    local found = redis.call('HMGET', K_WAITING, unpack(queues))
    for i, q in ipairs(queues) do waiting[q] = tonumber(found[i] or '0') or 0 end
  end
  local best_id, best_score, declined = nil, nil, nil
  for _, qual in ipairs(a.quals) do
    local qp = POLICY.queues[qual.q]
    if qp and waiting[qual.q] > 0 then
      for _, ch in ipairs(qp.channels) do
        if can_take(a, ch) then
          local head = redis.call('ZRANGE', k_wait(qual.q, qual.s, ch), 0, 9, 'WITHSCORES')
          local learns = qp.strategy == 'best_outcome'
          for i = 1, #head, 2 do
            local score = tonumber(head[i + 1])
            local held = learns and held_from(head[i], qual.q, ch, a)  -- left for a better agent, for now
            if not held and not declined_by(head[i], a.id) then
              if not best_score or score < best_score then best_id, best_score = head[i], score end
              break
            end
            if not held then declined = declined or head[i] end
          end
        end
      end
    end
  end
  return best_id, declined
end

-- A freed agent takes the best waiting contacts across every queue it serves.
local function pull_for_agent(a)
  for _ = 1, 10 do
    local best_id, declined = best_waiting(a)
    if not best_id then
      if declined then arm_reoffer(declined) end
      return
    end
    offer_contact(load_contact(best_id), a)
  end
end

-- Give capacity back after an offer or a contact of `channel` ends (`reserved`: the cost
-- taken when it was offered), and re-index the agent (the caller decides whether they
-- pull new work now).
local function free_agent(a, channel, reserved)
  local cost = tonumber(reserved) or (POLICY.channels[channel] and POLICY.channels[channel].cost) or 0
  a.load = math.max(0, a.load - cost)
  a.busy[channel] = math.max(0, (a.busy[channel] or 0) - 1)
  save_agent_load(a)
  refresh_pools(a)
end

-- The first step at or after `from` that has eligible (logged-in) agents, passing over
-- steps marked skip_if_no_eligible that nobody staffed could serve.
local function skip_steps(q, ch, from)
  local qp = POLICY.queues[q]
  local s = from
  while s < qp.steps - 1 and qp.step_skip and qp.step_skip[s + 1]
    and redis.call('SCARD', k_staff(q, s, ch)) == 0 do
    s = s + 1
  end
  return s
end

local function arm_step_timer(c)
  local qp = POLICY.queues[c.queue]
  local t = qp.step_timeout_ms and qp.step_timeout_ms[c.step + 1] or -1
  if t >= 0 and c.step < qp.steps - 1 then arm('step:' .. c.id .. ':' .. (c.step + 1), NOW + t) end
end

-- The arrival pace of a queue and channel per priority lead (a contact's offset: tier,
-- priority): later arrivals with a greater lead overtake a waiting contact. One field
-- per lead in use: "<EWMA gap ms>|<last arrival ms>".
local ARRIVAL_ALPHA, ARRIVAL_TTL_S, LONGEST_GAP_MS = 0.1, 7 * 86400, 3600000
local function note_arrival(q, ch, lead)
  local key, field = k_arrivals(q, ch), tostring(lead)
  local gap, last = string.match(redis.call('HGET', key, field) or '|', '^([^|]*)|(.*)$')
  gap, last = tonumber(gap), tonumber(last)
  if last then
    local d = math.min(NOW - last, LONGEST_GAP_MS)
    gap = gap and (gap + ARRIVAL_ALPHA * (d - gap)) or d
  end
  redis.call('HSET', key, field, (gap and math.floor(gap) or '') .. '|' .. NOW)
  redis.call('EXPIRE', key, ARRIVAL_TTL_S)
end

-- How long until `agent_ms` of agent time is worked: `serving` agents from now, plus
-- those back from a planned break `due` ms from now (ascending). nil: nobody will.
local function time_to_work(agent_ms, serving, due)
  local t, done, working = 0, 0, serving
  for _, d in ipairs(due) do
    if working > 0 and done + working * (d - t) >= agent_ms then break end
    done, t, working = done + working * (d - t), d, working + 1
  end
  if working == 0 then return nil end
  return t + (agent_ms - done) / working
end

-- Agents of the step on a planned break who are due back (not overdue), as ms from now,
-- soonest first; the first RETURNING_READ count.
local RETURNING_READ = 20
local function due_back(q, s, ch)
  local flat = redis.call('ZRANGEBYSCORE', k_returning(q, s, ch), NOW, '+inf', 'WITHSCORES',
    'LIMIT', 0, RETURNING_READ)
  local due = {}
  for i = 2, #flat, 2 do due[#due + 1] = tonumber(flat[i]) - NOW end
  return due
end

-- Estimated wait (EWT) of a contact about to wait at step `s` with priority lead `lead`:
-- the contacts ahead of it in the real priority order (every step's waiting set of its
-- queue and channel, by score) and those expected to arrive with a greater lead and
-- overtake it while it waits, served by the agents working for its step (not those on a
-- break, until their planned break ends), each contact taking the agent time one of the
-- queue recently took (offer to end, and wrap-up). 0 when a free agent takes it at once.
-- A few reads, none growing with the queue.
local function estimate(q, s, ch, score, lead)
  lead = lead or 0
  local ahead = 0
  for step = 0, POLICY.queues[q].steps - 1 do
    ahead = ahead + redis.call('ZCOUNT', k_wait(q, step, ch), '-inf', '(' .. score)
  end
  if redis.call('ZCARD', k_pool(q, s, ch)) > ahead then return ahead + 1, 0 end  -- a free agent takes it
  local serving, due = redis.call('SCARD', k_serving(q, s, ch)), due_back(q, s, ch)
  if serving == 0 and #due == 0 then return ahead + 1, nil end
  local cp = POLICY.channels[ch] or {}
  -- agent time one contact takes: its handle time and wrap-up, over the contacts an agent
  -- takes at once
  local each = (queue_handle_ms(q, ch) + (cp.wrapup_ms or 0)) / math.max(1, math.floor(100 / (cp.cost or 100)))
  local overtakers = {}  -- {arrivals per ms, how long after it they still overtake}
  local flat = redis.call('HGETALL', k_arrivals(q, ch))
  for i = 1, #flat, 2 do
    local l, gap = tonumber(flat[i]), tonumber(string.match(flat[i + 1], '^([^|]*)|'))
    if l and gap and gap > 0 and l > lead then overtakers[#overtakers + 1] = {1 / gap, l - lead} end
  end
  local base = time_to_work((ahead + 1) * each, serving, due)
  local wait = base
  for _ = 1, 8 do  -- the contacts ahead and the overtakers arriving within the wait (a fixed point)
    local more = 0
    for _, o in ipairs(overtakers) do more = more + o[1] * math.min(wait, o[2]) end
    wait = math.min(time_to_work((ahead + 1 + more) * each, serving, due), 10 * base)
  end
  return ahead + 1, math.floor(wait / 100) / 10
end

-- contact.queued for `c` (its queue, channel, tier, customer, score and lead as kept),
-- with the first step's `skills` and where it stands: its place and estimated wait.
local function emit_queued(c, skills)
  local position, ewt = estimate(c.queue, skip_steps(c.queue, c.channel, 0), c.channel, c.score, tonumber(c.offset))
  emit('contact.queued', c.id, {contact_id = c.id, queue = c.queue, channel = c.channel, tier = c.tier,
    customer_id = c.customer, required_skills = skills, order_ms = c.score, position = position,
    estimated_wait_s = ewt or cjson.null})
end

-- Put a queued contact in queue `q` (arrival or overflow): first eligible step, step and
-- max-wait timers. Its score (arrival and tier) is kept, so it keeps its place.
local function enter_queue(c, q)
  local qp = POLICY.queues[q]
  c.queue, c.qstart, c.state = q, NOW, 'queued'
  c.step = skip_steps(q, c.channel, 0)
  redis.call('HSET', k_contact(c.id), 'queue', q, 'step', c.step, 'qstart', NOW, 'state', 'queued')
  wait_put(c)
  arm_step_timer(c)
  if (qp.max_wait_ms or -1) >= 0 and c.callback ~= '1' then arm('maxwait:' .. c.id, NOW + qp.max_wait_ms)
  else disarm('maxwait:' .. c.id) end  -- a callback contact has no max wait: it was taken already
end

-- Move a queued or offered contact to step `s` of its queue (a step expired).
local function advance_step(c, s)
  s = skip_steps(c.queue, c.channel, s)
  if c.state == 'queued' and c.pref == '' then
    wait_rem(c.queue, c.step, c.channel, c.id)
    wait_add(c.queue, s, c.channel, c.score, c.id)
  end
  c.step = s
  redis.call('HSET', k_contact(c.id), 'step', s)
  arm_step_timer(c)
  emit('contact.escalated', c.id, {contact_id = c.id, queue = c.queue, step = s})
end

local function waiting_count(q)
  return tonumber(redis.call('HGET', K_WAITING, q) or '0') or 0
end

-- The queue is full or the contact waited too long: to the overflow queue (keeping its
-- place by arrival and tier) or out of the queue as a callback request.
local function overflow(c, reason)
  local qp = POLICY.queues[c.queue]
  leave_wait(c)
  disarm('step:' .. c.id .. ':' .. (c.step + 1))
  disarm('maxwait:' .. c.id)
  disarm('pref:' .. c.id)
  c.pref, c.overdue = '', ''
  redis.call('HSET', k_contact(c.id), 'pref', '', 'overdue', '')
  if qp.overflow_queue and qp.overflow_queue ~= '' then
    enter_queue(c, qp.overflow_queue)
    emit('contact.requeued', c.id, {contact_id = c.id, queue = c.queue, reason = 'overflow_' .. reason})
    return
  end
  local cp = POLICY.channels[c.channel]
  if cp and cp.callbacks then
    -- Its gateway calls back: a callback contact at the same place, with no max wait.
    c.callback = '1'
    redis.call('HSET', k_contact(c.id), 'callback', '1')
    wait_put(c)
    arm_step_timer(c)
    emit('contact.overflowed', c.id, {contact_id = c.id, queue = c.queue, channel = c.channel,
      reason = reason, action = qp.overflow_action, wait_ms = NOW - c.enqueued_at, keeps_place = true})
    return
  end
  c.state = 'overflowed'
  redis.call('HSET', k_contact(c.id), 'state', 'overflowed', 'ended_at', NOW, 'end_reason', reason)
  retire_contact(c.id)
  emit('contact.overflowed', c.id, {contact_id = c.id, queue = c.queue, channel = c.channel,
    reason = reason, action = qp.overflow_action, wait_ms = NOW - c.enqueued_at})
end

-- Does the policy in force still have this contact's queue, step and channel?
local function still_served(c)
  local qp = POLICY.queues[c.queue]
  return qp ~= nil and POLICY.channels[c.channel] ~= nil and has(qp.channels, c.channel) and c.step < qp.steps
end

-- A contact whose queue, step or channel a policy change dropped (it was being offered or
-- handled, or held for its last agent, then) goes to the default queue keeping its place,
-- or leaves routing as a callback request when that queue can't serve its channel: never
-- to no queue.
local function rehome(c)
  disarm('step:' .. c.id .. ':' .. (c.step + 1))
  disarm('maxwait:' .. c.id)
  c.overdue = ''
  redis.call('HSET', k_contact(c.id), 'offer', '', 'agent', '', 'overdue', '')
  local home = POLICY.default_queue
  local hq = home and POLICY.queues[home]
  if hq and POLICY.channels[c.channel] and has(hq.channels, c.channel) then
    enter_queue(c, home)
    emit('contact.requeued', c.id, {contact_id = c.id, queue = home, reason = 'queue_removed'})
    return
  end
  c.state = 'overflowed'
  redis.call('HSET', k_contact(c.id), 'state', 'overflowed', 'ended_at', NOW, 'end_reason', 'queue_removed')
  retire_contact(c.id)
  emit('contact.overflowed', c.id, {contact_id = c.id, queue = c.queue, channel = c.channel,
    reason = 'queue_removed', action = 'callback', wait_ms = NOW - c.enqueued_at})
end

-- A new contact in its queue: offer it, or overflow while its queue is over its cap.
local function settle_new(c)
  for _ = 1, 10 do
    push_contact(c)
    if c.state ~= 'queued' then return end
    local qp = POLICY.queues[c.queue]
    if (qp.max_waiting or -1) < 0 or waiting_count(c.queue) <= qp.max_waiting then return end
    overflow(c, 'queue_full')
    if c.callback == '1' then return end  -- waits on as a callback
  end
end

-- A returning customer held for their last agent is open to everyone from now on, at
-- the same place (a queued contact moves to its step's waiting set).
local function unprefer(c)
  if c.pref == '' then return end
  redis.call('ZREM', k_prefwait(c.pref), c.id)
  disarm('pref:' .. c.id)
  c.pref = ''
  redis.call('HSET', k_contact(c.id), 'pref', '')
  if c.state == 'queued' then wait_add(c.queue, c.step, c.channel, c.score, c.id) end
end

-- Back to waiting at its original place (same score and step), open to every agent.
-- Returns true when the contact's queue was gone and it went elsewhere (rehome).
local function requeue(c, reason)
  unprefer(c)
  if c.state == 'assigned' and c.offer and c.offer ~= '' then retire_offer(c.offer) end  -- its accepted offer
  if not still_served(c) then
    rehome(c)
    return true
  end
  redis.call('HSET', k_contact(c.id), 'state', 'queued', 'offer', '', 'agent', '')
  c.state = 'queued'
  wait_add(c.queue, c.step, c.channel, c.score, c.id)
  emit('contact.requeued', c.id, {contact_id = c.id, queue = c.queue, reason = reason})
  if c.overdue == '1' then overflow(c, 'max_wait') end
  return false
end

-- A queued contact (held for its last agent) whose queue a policy change dropped.
local function home_again(c)
  leave_wait(c)
  if c.pref ~= '' then
    disarm('pref:' .. c.id)
    c.pref = ''
    redis.call('HSET', k_contact(c.id), 'pref', '')
  end
  rehome(c)
  push_contact(c)
end

-- End a pending offer (declined, expired, agent gone) and route both sides again
-- (unless `defer`: the caller routes several re-queued contacts in order).
local function close_offer(oid, o, outcome, reason, defer)
  local a = load_agent(o.agent)
  local c = load_contact(o.contact)
  redis.call('HSET', k_offer(oid), 'state', outcome)
  retire_offer(oid)
  disarm('offer:' .. oid)
  redis.call('SREM', k_agent_offers(o.agent), oid)
  redis.call('SADD', k_contact_declined(o.contact), o.agent)
  local data = {offer_id = oid, contact_id = o.contact, agent_id = o.agent}
  if outcome == 'declined' then data.reason = reason or '' end
  if o.consult_for and o.consult_for ~= '' then  -- a warm transfer that did not happen
    data.consult_for = o.consult_for
    if c and c.consult == oid then redis.call('HSET', k_contact(c.id), 'consult', '') end
  end
  emit('offer.' .. outcome, o.contact, data)
  if a then free_agent(a, o.channel, o.cost) end
  local requeued = c and c.state == 'offered' and c.offer == oid
  if requeued then requeue(c, 'offer_' .. outcome) end
  if defer then return a, requeued and c or nil end
  if requeued then push_contact(c) end
  if a then pull_for_agent(a) end
  return a, c
end

-- A warm transfer still waiting for its target is withdrawn (the contact was completed,
-- or handed on otherwise).
local function withdraw_consult(c)
  if not c.consult or c.consult == '' then return end
  local o = hgetall(k_offer(c.consult))
  if o and o.state == 'pending' then close_offer(c.consult, o, 'expired', 'withdrawn') end
  c.consult = ''
end

-- Withdraw every pending offer of an agent who went away (offline, paused), then route
-- the contacts in queue order so none overtakes an older one.
local function withdraw_offers(aid, reason)
  local back = {}
  for _, oid in ipairs(redis.call('SMEMBERS', k_agent_offers(aid))) do
    local o = hgetall(k_offer(oid))
    if o and o.state == 'pending' then
      local _, c = close_offer(oid, o, 'expired', reason, true)
      if c then back[#back + 1] = c end
    end
  end
  table.sort(back, function(x, y) return x.score < y.score end)
  for _, c in ipairs(back) do push_contact(c) end
  local a = load_agent(aid)
  if a then pull_for_agent(a) end
end

-- Returning customers held for an agent who went offline go to everyone at once.
local function release_preferred(aid)
  for _, cid in ipairs(redis.call('ZRANGE', k_prefwait(aid), 0, -1)) do
    local c = load_contact(cid)
    redis.call('ZREM', k_prefwait(aid), cid)
    if c and c.state == 'queued' and c.pref == aid then
      if still_served(c) then
        unprefer(c)
        push_contact(c)
      else
        home_again(c)
      end
    end
  end
end

-- The agent leaves (logout or presence timeout): out of every pool, pending offers
-- re-queued in order, returning customers held for them released to everyone.
local function go_offline(a, reason)
  set_agent_state(a, 'offline', reason)
  disarm('presence:' .. a.id)
  refresh_pools(a)
  withdraw_offers(a.id, 'agent_offline')
  release_preferred(a.id)
end

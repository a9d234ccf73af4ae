-- Routing that learns who serves best: the best_outcome strategy (docs/routing.md).
--
-- outcome:<agent>  hash, per intent and channel (`<intent>|<ch>`): n| surveys, s| their
--                  CSAT sum, hn| contacts completed, h| mean handle time (ms). Expires
--                  OUTCOME_TTL_S after its last update.
-- leaders:<q>:<intent>:<ch>  zset of agents by expected outcome (best last), the few a
--                  contact may wait for; trimmed to LEADERS_KEEP, expires like outcome.
--
-- An agent's expected CSAT is a normal posterior: the queue's prior (prior_csat, worth
-- prior_n surveys) updated by their surveys. Each decision draws one value from every
-- free candidate's posterior (Thompson sampling): an agent with few surveys has a wide
-- posterior and is tried now and then, one with many is judged on them.
local OUTCOME_TTL_S, LEADERS, LEADERS_KEEP = 90 * 86400, 3, 50
local CSAT_SD = 1.0  -- spread of one survey answer on the 1-5 scale
-- Only the latest answers count, so an agent who improves is seen to (older ones fade);
-- handle times fade as the queue's do (HANDLE_MEMORY, common.lua).
local CSAT_MEMORY = 100

local function gauss()
  return math.sqrt(-2 * math.log(1 - math.random())) * math.cos(2 * math.pi * math.random())
end

-- Expected CSAT, its uncertainty, and expected handle time (ms) of agent `aid` on an
-- intent and channel; `queue_ms`, the queue's handle time, is the handle-time prior.
local function outcome(aid, intent, ch, lp, queue_ms)
  local k = intent .. '|' .. ch
  local f = redis.call('HMGET', k_outcome(aid), 'n|' .. k, 's|' .. k, 'hn|' .. k, 'h|' .. k)
  local n, sum = tonumber(f[1]) or 0, tonumber(f[2]) or 0
  local hn, h = tonumber(f[3]) or 0, tonumber(f[4]) or 0
  local w = lp.prior_n + n
  local handle = (lp.prior_n * queue_ms + hn * h) / (lp.prior_n + hn)
  return (lp.prior_n * lp.prior_csat + sum) / w, CSAT_SD / math.sqrt(w), handle
end

-- CSAT less what a longer-than-usual handle time costs (handle_weight per queue average).
local function utility(csat, handle_ms, queue_ms, lp)
  if queue_ms <= 0 then return csat end
  return csat - lp.handle_weight * (handle_ms / queue_ms - 1)
end

local function learning_of(q)
  local qp = POLICY.queues[q]
  return qp and qp.strategy == 'best_outcome' and qp.learning or nil
end

-- A survey answer (`csat`) or a handle time of agent `aid` on contact `c`: the agent's
-- outcome and their place among the leaders. False when c's queue does not learn.
local function learn(aid, c, csat, handle_ms)
  local lp = learning_of(c.queue)
  if not lp then return false end
  local key, k = k_outcome(aid), c.intent .. '|' .. c.channel
  if csat then
    local n = redis.call('HINCRBY', key, 'n|' .. k, 1)
    local s = tonumber(redis.call('HINCRBYFLOAT', key, 's|' .. k, csat))
    if n > CSAT_MEMORY then redis.call('HSET', key, 'n|' .. k, CSAT_MEMORY, 's|' .. k, s * CSAT_MEMORY / n) end
  end
  if handle_ms then
    local f = redis.call('HMGET', key, 'hn|' .. k, 'h|' .. k)
    local n = (tonumber(f[1]) or 0) + 1
    local h = tonumber(f[2]) or handle_ms
    redis.call('HSET', key, 'hn|' .. k, n, 'h|' .. k, math.floor(h + (handle_ms - h) / math.min(n, HANDLE_MEMORY)))
  end
  redis.call('EXPIRE', key, OUTCOME_TTL_S)
  local queue_ms = queue_handle_ms(c.queue, c.channel)
  local mean, _, h = outcome(aid, c.intent, c.channel, lp, queue_ms)
  local leaders = k_leaders(c.queue, c.intent, c.channel)
  redis.call('ZADD', leaders, utility(mean, h, queue_ms, lp), aid)
  redis.call('ZREMRANGEBYRANK', leaders, 0, -LEADERS_KEEP - 1)
  redis.call('EXPIRE', leaders, OUTCOME_TTL_S)
  return true
end

-- Wait for a better agent? Only while the contact is within max_hold of entering its
-- queue, and only for a leader staffed for its step who is working (will be free soon)
-- and expected to beat the best free agent by hold_margin. The hold timer re-routes it
-- when the guard runs out; meanwhile only agents who clear the bar may take it.
local function hold_for_better(c, lp, busy, mean, queue_ms)
  local until_ms = c.qstart + lp.max_hold_ms
  if NOW >= until_ms then return false end
  local bar = mean + lp.hold_margin
  for _, aid in ipairs(busy) do
    if redis.call('SISMEMBER', k_staff(c.queue, c.step, c.channel), aid) == 1 and not declined_by(c.id, aid) then
      local a = load_agent(aid)
      if a and (a.state == 'wrapup' or (a.state == 'available' and a.load > 0)) then
        local m, _, h = outcome(aid, c.intent, c.channel, lp, queue_ms)
        if utility(m, h, queue_ms, lp) >= bar then
          redis.call('HSET', k_contact(c.id), 'hold_bar', bar)
          redis.call('ZADD', K_TIMERS, 'NX', until_ms, 'hold:' .. c.id)
          return true
        end
      end
    end
  end
  return false
end

push_best = function(c, allow_declined)
  local lp = POLICY.queues[c.queue].learning
  local pool = k_pool(c.queue, c.step, c.channel)
  local ids, seen, busy = redis.call('ZRANGE', pool, 0, lp.candidates - 1), {}, {}
  for _, aid in ipairs(ids) do seen[aid] = true end
  -- The leaders are weighed too: free ones as candidates, busy ones as worth waiting for.
  for _, aid in ipairs(redis.call('ZRANGE', k_leaders(c.queue, c.intent, c.channel), 0, LEADERS - 1, 'REV')) do
    if not seen[aid] then
      if redis.call('ZSCORE', pool, aid) then ids[#ids + 1] = aid else busy[#busy + 1] = aid end
    end
  end
  local queue_ms = queue_handle_ms(c.queue, c.channel)
  local best, best_draw, best_mean, decliner = nil, nil, nil, nil
  for _, aid in ipairs(ids) do
    local a = load_agent(aid)
    if a and can_take(a, c.channel) then
      if declined_by(c.id, aid) then
        decliner = decliner or a
      else
        local mean, sd, h = outcome(aid, c.intent, c.channel, lp, queue_ms)
        local draw = utility(mean + sd * gauss(), h, queue_ms, lp)
        if not best_draw or draw > best_draw then best, best_draw, best_mean = a, draw, utility(mean, h, queue_ms, lp) end
      end
    end
  end
  if best and hold_for_better(c, lp, busy, best_mean, queue_ms) then return nil end
  if c.hold_bar then redis.call('HDEL', k_contact(c.id), 'hold_bar'); c.hold_bar = nil end
  if best then return offer_contact(c, best) end
  return offer_to_decliner(c, decliner, allow_declined)
end

-- Must freed agent `a` leave waiting contact `cid` alone? Yes while it is held for a
-- better agent (its bar) and `a` is not expected to clear that bar.
held_from = function(cid, q, ch, a)
  local f = redis.call('HMGET', k_contact(cid), 'hold_bar', 'qstart', 'intent')
  local bar = tonumber(f[1])
  local lp = learning_of(q)
  if not bar or not lp or NOW >= tonumber(f[2]) + lp.max_hold_ms then return false end
  local queue_ms = queue_handle_ms(q, ch)
  local mean, _, h = outcome(a.id, f[3], ch, lp, queue_ms)
  return utility(mean, h, queue_ms, lp) < bar
end

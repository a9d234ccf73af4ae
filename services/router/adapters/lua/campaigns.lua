-- Outbound campaigns (docs/campaigns.md): each target is tried as a contact of the
-- campaign's queue, created here only when an agent is free for it. The contact is a
-- callback contact: once an agent accepts it, the voice gateway dials the customer and
-- hands the answered call to that agent, so there is never a call without an agent.
--
-- campaign:<id>          hash: spec (json), state (running|paused|cancelled|finished),
--                        total, done, inflight, attempts, n_<outcome> counters, next_send
-- campaign:<id>:targets  hash: target id -> {a address, n name, c customer, k attempts, s status}
-- campaign:<id>:due      zset: targets to try, by when
-- campaigns              set: running campaign ids; dnc: set of numbers and addresses
-- A campaign's keys expire RETENTION_S after it finishes or is cancelled.

-- Campaign calls wait behind every inbound contact of their queue: their place is their
-- arrival plus a day.
local CAMPAIGN_LAG_MS = 86400000

local function campaign_spec(id)
  local raw = redis.call('HGET', k_campaign(id), 'spec')
  return raw and cjson.decode(raw) or nil
end

local function retire_campaign(id, state)
  redis.call('HSET', k_campaign(id), 'state', state, 'ended_at', NOW)
  redis.call('SREM', K_CAMPAIGNS, id)
  for _, key in ipairs({k_campaign(id), k_campaign_targets(id), k_campaign_due(id)}) do
    redis.call('EXPIRE', key, RETENTION_S)
  end
end

-- A target's attempt ended: tried again after the campaign's wait for that outcome while
-- attempts remain, else it is done (and the campaign with its last target).
local function attempt_ended(id, spec, tid, t, cid, outcome)
  local retry = spec.retry_ms[outcome]
  local attempt = t.k
  t.k = t.k + 1
  local again = retry ~= nil and t.k < spec.max_attempts
  local key = k_campaign(id)
  redis.call('HINCRBY', key, 'n_' .. outcome, 1)
  if again then
    t.s = 'retry'
    redis.call('ZADD', k_campaign_due(id), NOW + retry, tid)
  else
    t.s = (retry ~= nil) and 'exhausted' or outcome
    redis.call('HINCRBY', key, 'done', 1)
    if retry ~= nil then redis.call('HINCRBY', key, 'exhausted', 1) end
  end
  redis.call('HSET', k_campaign_targets(id), tid, cjson.encode(t))
  emit('campaign.attempt_ended', cid or tid, {campaign_id = id, target_id = tid, contact_id = cid or cjson.null,
    channel = spec.channel, attempt = attempt, outcome = outcome, retry_at_ms = again and (NOW + retry) or cjson.null})
  local f = redis.call('HMGET', key, 'done', 'total', 'state')
  if tonumber(f[1]) >= tonumber(f[2]) and f[3] == 'running' then retire_campaign(id, 'finished') end
end

-- A campaign contact ended (completed by its agent, a call nobody took, the customer
-- gone): its campaign hears how.
local function campaign_outcome(c, outcome)
  if (c.campaign or '') == '' then return end
  local spec = campaign_spec(c.campaign)
  local raw = spec and redis.call('HGET', k_campaign_targets(c.campaign), c.campaign_target)
  if not raw then return end
  redis.call('HINCRBY', k_campaign(c.campaign), 'inflight', -1)
  attempt_ended(c.campaign, spec, c.campaign_target, cjson.decode(raw), c.id, outcome)
end

-- May a campaign call start now? An agent staffed for the queue is free, no contact
-- waits in the queue (inbound first), and campaign calls hold fewer than agent_share of
-- the queue's staffed agents.
local function agent_free_for(spec)
  local q = spec.queue
  if not POLICY.queues[q] or waiting_count(q) > 0 then return false end
  if redis.call('ZCARD', k_pool(q, 0, 'voice')) == 0 then return false end
  local cap = math.max(1, math.floor(spec.agent_share * redis.call('SCARD', k_staff(q, 0, 'voice'))))
  return (tonumber(redis.call('HGET', k_campaign(spec.id), 'inflight')) or 0) < cap
end

-- The target's next attempt as a contact of the queue: offered at once to the free agent.
local function call_target(spec, tid, t)
  local id = spec.id
  local cid = 'cmp-' .. id .. '-' .. tid .. '-' .. t.k
  local arrival = next_arrival()
  local meta = {callback = true, callback_number = t.a, callback_attempts = t.k, campaign = id,
    campaign_target = tid}
  local data = {id = cid, channel = 'voice', intent = spec.intent, queue = spec.queue,
    customer = {id = t.c, address = t.a, name = t.n ~= '' and t.n or cjson.null},
    metadata = {campaign = id, campaign_target = tid, attempt = t.k}}
  redis.call('HSET', k_contact(cid), 'state', 'queued', 'channel', 'voice', 'queue', spec.queue, 'step', 0,
    'tier', 'campaign', 'intent', spec.intent, 'customer', t.c, 'score', arrival + CAMPAIGN_LAG_MS,
    'arrival', arrival, 'offset', -CAMPAIGN_LAG_MS, 'enqueued_at', NOW, 'qstart', NOW, 'conv', '', 'rel', '',
    'data', cjson.encode(data), 'meta', cjson.encode(meta), 'callback', '1', 'campaign', id,
    'campaign_target', tid, 'tp', TRACEPARENT)
  CONTACT_TRACE[cid] = TRACEPARENT
  t.s = 'calling'
  redis.call('HSET', k_campaign_targets(id), tid, cjson.encode(t))
  redis.call('HINCRBY', k_campaign(id), 'inflight', 1)
  redis.call('HINCRBY', k_campaign(id), 'attempts', 1)
  local c = load_contact(cid)
  emit_queued(c, spec.skills)
  enter_queue(c, spec.queue)
  settle_new(c)
end

-- The target's message, for the email gateway to send (the campaign is paced by send_gap_ms).
local function write_target(spec, tid, t)
  local body = string.gsub(spec.body, '{name}', function() return t.n end)
  emit('campaign.message_requested', tid, {campaign_id = spec.id, target_id = tid, to = t.a, name = t.n,
    subject = spec.subject, body = body, intent = spec.intent})
  redis.call('HSET', k_campaign(spec.id), 'next_send', NOW + spec.send_gap_ms)
  redis.call('HINCRBY', k_campaign(spec.id), 'attempts', 1)
  attempt_ended(spec.id, spec, tid, t, nil, 'sent')
end

-- ARGV: now, dedupe_key, contact_id, json {channel, queue, tier, intent, customer_id,
--       offset_ms, skills, data, conversation_id?, relationship?}
-- Idempotent on the event id (dedupe_key) and on the contact id.
-- Returns no_queue (nothing written, not even the dedupe marker: the event can come again)
-- when the policy in force here no longer has the queue or channel.
local dedupe, cid, spec = ARGV[2], ARGV[3], cjson.decode(ARGV[4])
local qp = POLICY.queues[spec.queue]
if not qp or not POLICY.channels[spec.channel] then return 'no_queue' end
if not first_time(dedupe) then return 'duplicate' end
if redis.call('EXISTS', k_contact(cid)) == 1 then return 'exists' end
local conv = spec.conversation_id
if type(conv) ~= 'string' then conv = '' end
local rel = spec.relationship
if type(rel) ~= 'string' then rel = '' end
local arrival = next_arrival()
redis.call('HSET', k_contact(cid), 'state', 'queued', 'channel', spec.channel, 'queue', spec.queue,
  'step', 0, 'tier', spec.tier, 'intent', spec.intent, 'customer', spec.customer_id,
  'score', arrival - spec.offset_ms, 'arrival', arrival, 'offset', spec.offset_ms, 'enqueued_at', NOW,
  'qstart', NOW, 'conv', conv, 'rel', rel, 'data', spec.data, 'tp', TRACEPARENT)
CONTACT_TRACE[cid] = TRACEPARENT  -- the trace of the event that created it, for all its events
-- The customer's recent contacts, for the agent's context (newest HISTORY_KEEP).
local history = k_customer_history(spec.customer_id)
redis.call('ZADD', history, NOW / 1000, cid)
redis.call('ZREMRANGEBYRANK', history, 0, -HISTORY_KEEP - 1)
redis.call('EXPIRE', history, RETENTION_S)
-- Its queue is closed: it waits for the opening (scheduled, its wait counting from then),
-- or it is over now (the customer is told the hours).
if spec.closed_action then
  local opens = tonumber(spec.opens_at_ms) or 0
  if spec.closed_action == 'leave' or opens <= 0 then
    redis.call('HSET', k_contact(cid), 'state', 'closed', 'ended_at', NOW, 'end_reason', 'closed')
    retire_contact(cid)
  else
    redis.call('HSET', k_contact(cid), 'state', 'scheduled', 'enqueued_at', opens, 'qstart', opens,
      'skills', cjson.encode(spec.skills))
    arm('open:' .. cid, opens)
  end
  emit('contact.deferred', cid, {contact_id = cid, queue = spec.queue, channel = spec.channel, reason = 'closed',
    action = spec.closed_action, opens_at_ms = opens > 0 and opens or cjson.null, hours = spec.hours or ''})
  return 'deferred'
end
local c = load_contact(cid)
note_arrival(spec.queue, spec.channel, spec.offset_ms)
emit_queued(c, spec.skills)
-- A returning customer waits for their last agent first, for the queue's preferred time:
-- the conversation's agent, else the customer's last agent on any channel.
if (conv ~= '' or rel ~= '') and (qp.preferred_ms or -1) > 0 then
  local aid = conv ~= '' and redis.call('GET', k_conv(conv)) or false
  if not aid and rel ~= '' then aid = redis.call('GET', k_customer_agent(rel)) end
  local a = aid and load_agent(aid)
  if a and a.state ~= 'offline' and has(a.channels, spec.channel) then
    for _, qual in ipairs(a.quals) do
      if qual.q == spec.queue then
        c.pref = aid
        redis.call('HSET', k_contact(cid), 'pref', aid)
        arm('pref:' .. cid, NOW + qp.preferred_ms)
        break
      end
    end
  end
end
enter_queue(c, spec.queue)
settle_new(c)
if c.state == 'overflowed' then return 'overflowed' end
return 'queued'

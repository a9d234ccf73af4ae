-- ARGV: now, dedupe_key, contact_id, json {offset_ms|null, tier|null, priority|null,
--       escalate, requeue_reason|null, retry_in_ms, close_reason, metadata}
-- A gateway's news about a live contact. Re-scoring is one ZADD, so a new priority
-- takes effect at once; a re-queue keeps the contact's original place.
local dedupe, cid, u = ARGV[2], ARGV[3], cjson.decode(ARGV[4])
if not first_time(dedupe) then return 'duplicate' end
local c = load_contact(cid)
if not c then return 'not_found' end
local reason_given = u.requeue_reason
local meta = cjson.decode(c.meta or '{}')
for k, v in pairs(u.metadata or {}) do meta[k] = v end
redis.call('HSET', k_contact(cid), 'meta', cjson.encode(meta))
if u.tier ~= cjson.null and u.tier then redis.call('HSET', k_contact(cid), 'tier', u.tier) end
if u.priority ~= cjson.null and u.priority then redis.call('HSET', k_contact(cid), 'priority', u.priority) end
if u.offset_ms ~= cjson.null and u.offset_ms then rescore_contact(c, u.offset_ms) end
if u.escalate then
  redis.call('HSET', k_contact(cid), 'escalated', '1')
  emit('contact.escalated', cid, {contact_id = cid, queue = c.queue, step = c.step})
end
-- The gateway gave up on it (a callback nobody answered): completed with that reason.
if c.state == 'assigned' and ((u.close_reason or '') ~= '' or (reason_given and reason_given ~= cjson.null)) then
  withdraw_consult(c)  -- the call is gone from this agent: no warm hand-off of it either
end
if (u.close_reason or '') ~= '' and c.state == 'assigned' then
  local a = load_agent(c.agent)
  redis.call('HSET', k_contact(cid), 'state', 'completed', 'completed_at', NOW, 'disposition', u.close_reason)
  retire_contact(cid)
  redis.call('SREM', k_agent_contacts(c.agent), cid)
  emit('contact.completed', cid, {contact_id = cid, agent_id = c.agent, queue = c.queue, channel = c.channel,
    handle_ms = NOW - tonumber(c.assigned_at), disposition = u.close_reason})
  -- A campaign call nobody answered: the campaign decides whether to try again.
  local how = u.close_reason
  campaign_outcome(c, (how == 'busy' or how == 'no_answer') and how or 'failed')
  if a then
    free_agent(a, c.channel, c.cost)
    pull_for_agent(a)
  end
  return 'closed'
end
local reason = u.requeue_reason
if reason ~= cjson.null and reason and c.state == 'assigned' and (u.retry_in_ms or 0) > 0 then
  -- Back in line later (a callback to try again): out of every queue until its timer.
  local a = load_agent(c.agent)
  redis.call('SREM', k_agent_contacts(c.agent), cid)
  if c.offer ~= '' then retire_offer(c.offer) end
  redis.call('HSET', k_contact(cid), 'state', 'scheduled', 'offer', '', 'agent', '', 'deferred', 'retry')
  arm('open:' .. cid, NOW + u.retry_in_ms)
  emit('contact.requeued', cid, {contact_id = cid, queue = c.queue, reason = reason})
  if a then
    free_agent(a, c.channel, c.cost)
    pull_for_agent(a)
  end
  return 'scheduled'
end
if reason ~= cjson.null and reason and c.state == 'assigned' then
  local a = load_agent(c.agent)
  redis.call('SREM', k_agent_contacts(c.agent), cid)
  local rehomed = requeue(c, reason)
  if c.state == 'queued' and not rehomed then
    -- Back in line: its steps relax again from now, and its max wait counts the time it
    -- waited before the hand-off (time being handled is not waiting).
    arm_step_timer(c)
    local qp = POLICY.queues[c.queue]
    if qp and (qp.max_wait_ms or -1) >= 0 and c.callback ~= '1' then  -- a callback has no max wait
      local waited = (tonumber(c.assigned_at) or NOW) - c.qstart
      arm('maxwait:' .. cid, NOW + math.max(0, qp.max_wait_ms - waited))
    end
  end
  if a then free_agent(a, c.channel, c.cost) end
  -- The failed agent is skipped for this contact while anyone else can take it.
  redis.call('SADD', k_contact_declined(cid), c.agent)
  push_contact(c)
  if a then pull_for_agent(a) end
  return 'requeued'
end
if c.state == 'queued' and u.offset_ms ~= cjson.null and u.offset_ms then push_contact(c) end
return 'updated'

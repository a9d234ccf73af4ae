-- ARGV: now, contact_id, agent_id (who holds it), json {queue, agent, supervisor, warm, note, reason}
-- The agent hands an assigned contact on: to a queue, to a named agent (held for them
-- TRANSFER_HOLD, then open to the queue), or to a supervisor of the queue (escalation).
-- It keeps its arrival time and tier (its score), so it does not go to the back.
-- Warm: the agent keeps the contact while the named agent (or supervisor) is offered it;
-- it changes hands when they accept (accept_offer.lua), and stays if they do not.
-- Returns ok | consulting | not_found | forbidden | gone | no_queue | no_agent | agent_away
--         | no_supervisor | self | warm_needs_agent | agent_busy
local cid, aid, t = ARGV[2], ARGV[3], cjson.decode(ARGV[4])
local c = load_contact(cid)
if not c then return 'not_found' end
if c.agent ~= aid then return 'forbidden' end
if c.state ~= 'assigned' then return 'gone' end
local q = (type(t.queue) == 'string' and t.queue ~= '') and t.queue or c.queue
local qp = POLICY.queues[q]
if not qp or not has(qp.channels, c.channel) then return 'no_queue' end

-- Who it is held for, if anyone: a named agent, or the queue's best supervisor present.
local target, kind = nil, 'queue'
if type(t.agent) == 'string' and t.agent ~= '' then
  kind = 'agent'
  if t.agent == aid then return 'self' end
  target = load_agent(t.agent)
  if not target then return 'no_agent' end
  if target.state == 'offline' or not has(target.channels, c.channel) then return 'agent_away' end
elseif t.supervisor then
  kind = 'supervisor'
  for _, sid in ipairs(qp.supervisors or {}) do
    local s = sid ~= aid and load_agent(sid)
    if s and s.state ~= 'offline' and has(s.channels, c.channel) then
      -- One who can take it now first, then the least loaded.
      local rank = (can_take(s, c.channel) and 0 or 1000000) + s.load
      if not target or rank < target.rank then target = s; target.rank = rank end
    end
  end
  if not target then return 'no_supervisor' end
end
withdraw_consult(c)  -- a new hand-off replaces one still waiting

if t.warm then
  if not target then return 'warm_needs_agent' end
  if not can_take(target, c.channel) then return 'agent_busy' end
  local oid = issue_offer(c, target, q, {'consult_for', aid, 'kind', kind, 'note', t.note or '',
    'reason', t.reason or ''})
  redis.call('HSET', k_contact(cid), 'consult', oid)
  return 'consulting'
end

-- The agent lets go: capacity back, and they are skipped for it while anyone else can.
local a = load_agent(aid)
redis.call('SREM', k_agent_contacts(aid), cid)
if c.offer ~= '' then retire_offer(c.offer) end
redis.call('SADD', k_contact_declined(cid), aid)
note_transfer(c, aid, kind, q, target and target.id, t.note, t.reason, false)
redis.call('HSET', k_contact(cid), 'offer', '', 'agent', '')
if kind == 'supervisor' then redis.call('HSET', k_contact(cid), 'escalated', '1') end
if target then
  redis.call('SREM', k_contact_declined(cid), target.id)
  c.pref = target.id
  redis.call('HSET', k_contact(cid), 'pref', target.id)
  arm('pref:' .. cid, NOW + (POLICY.transfer_hold_ms or 30000))
end
enter_queue(c, q)
if a then free_agent(a, c.channel, c.cost) end
push_contact(c)
if a then pull_for_agent(a) end
return 'ok'

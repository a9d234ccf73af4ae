-- ARGV: now, offer_id, agent_id. Returns ok | not_found | forbidden | gone
-- A warm transfer's offer (`consult_for`: the agent who asked, who still has the contact)
-- hands the contact over now: the first agent lets go, the transfer is published.
local oid, aid = ARGV[2], ARGV[3]
local o = hgetall(k_offer(oid))
if not o then return 'not_found' end
if o.agent ~= aid then return 'forbidden' end
if o.state == 'accepted' then return 'ok' end
if o.state ~= 'pending' then return 'gone' end
local c = load_contact(o.contact)
local from = o.consult_for or ''
if from ~= '' then
  if not c or c.state ~= 'assigned' or c.consult ~= oid or c.agent ~= from then return 'gone' end
elseif not c or c.state ~= 'offered' or c.offer ~= oid then return 'gone' end
redis.call('HSET', k_offer(oid), 'state', 'accepted')
disarm('offer:' .. oid)
redis.call('SREM', k_agent_offers(aid), oid)
local first = from ~= '' and load_agent(from) or nil
if from ~= '' then
  redis.call('SREM', k_agent_contacts(from), c.id)
  if c.offer ~= '' then retire_offer(c.offer) end
  if first then free_agent(first, c.channel, c.cost) end
  note_transfer(c, from, o.kind or 'agent', o.queue, aid, o.note, o.reason, true)
  c.queue = o.queue
  redis.call('HSET', k_contact(c.id), 'queue', o.queue, 'offer', oid, 'cost', o.cost, 'consult', '')
  if o.kind == 'supervisor' then redis.call('HSET', k_contact(c.id), 'escalated', '1') end
end
redis.call('SADD', k_agent_contacts(aid), c.id)
redis.call('HSET', k_contact(c.id), 'state', 'assigned', 'agent', aid, 'assigned_at', NOW,
  'offered_at', o.issued_at or NOW)
redis.call('HSET', k_agent(aid), 'misses', 0)
-- The conversation remembers its agent: a returning customer is offered to them first.
-- So does the customer, on whatever channel they come back.
local ttl = POLICY.relationship_ttl_s or 2592000
if c.conv ~= '' then redis.call('SET', k_conv(c.conv), aid, 'EX', ttl) end
if c.rel and c.rel ~= '' then redis.call('SET', k_customer_agent(c.rel), aid, 'EX', ttl) end
emit('offer.accepted', c.id, {offer_id = oid, contact_id = c.id, agent_id = aid})
local agent = redis.call('HMGET', k_agent(aid), 'sip_uri', 'name')
local sip = agent[1]
if sip == false or sip == '' then sip = nil end
local assigned = {contact_id = c.id, agent_id = aid, queue = c.queue, channel = c.channel,
  wait_ms = NOW - c.enqueued_at, agent_sip_uri = sip}
local meta = cjson.decode(c.meta or '{}')
if meta.callback == true and type(meta.callback_number) == 'string' then  -- the gateway dials it
  assigned.callback = {number = meta.callback_number, attempts = tonumber(meta.callback_attempts) or 0}
  if type(meta.callback_gateway) == 'string' then assigned.callback.gateway = meta.callback_gateway end
  if type(meta.campaign) == 'string' then assigned.callback.campaign = meta.campaign end
end
emit('contact.assigned', c.id, assigned)
-- "<agent> joined" in the conversation, once per contact and agent it was transferred to.
local cp = POLICY.channels[c.channel]
if cp and cp.announce and redis.call('HSETNX', k_contact(c.id), 'joined', aid) == 1 then
  local name = (agent[2] and agent[2] ~= '') and agent[2] or aid
  local conv = c.conv ~= '' and c.conv or c.id
  local n = tonumber(c.transfers or '0')  -- one announcement per agent the contact reaches
  local mid = 'm-joined-' .. c.id .. (n > 0 and ('-' .. n) or '')
  emit('message.posted', conv, {message_id = mid, conversation_id = conv, contact_id = c.id,
    sender = 'system', author = name, text = name .. ' joined', sent_at = NOW})
end
if first then pull_for_agent(first) end
return 'ok'

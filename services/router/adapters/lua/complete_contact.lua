-- ARGV: now, contact_id, agent_id, disposition. Returns ok | not_found | forbidden | gone
local cid, aid, disposition = ARGV[2], ARGV[3], ARGV[4]
local c = load_contact(cid)
if not c then return 'not_found' end
if c.agent ~= aid then return 'forbidden' end
if c.state == 'completed' then return 'ok' end
if c.state ~= 'assigned' then return 'gone' end
withdraw_consult(c)
local a = load_agent(aid)
redis.call('HSET', k_contact(cid), 'state', 'completed', 'completed_at', NOW, 'disposition', disposition)
retire_contact(cid)
redis.call('SREM', k_agent_contacts(aid), cid)
local handle_ms = NOW - tonumber(c.assigned_at)
note_handle_time(c.queue, c.channel, NOW - (tonumber(c.offered_at) or tonumber(c.assigned_at)))
learn(aid, c, nil, handle_ms)
campaign_outcome(c, 'completed')
emit('contact.completed', cid, {contact_id = cid, agent_id = aid, queue = c.queue,
  channel = c.channel, handle_ms = handle_ms, disposition = disposition})
if a then
  a.idle_since = NOW  -- longest idle counts from the end of the agent's last contact
  -- Wrap-up: after-contact work before new offers; the wrapup timer makes them available.
  local wrap = POLICY.channels[c.channel] and POLICY.channels[c.channel].wrapup_ms or 0
  if wrap > 0 and (a.state == 'available' or a.state == 'wrapup') then
    set_agent_state(a, 'wrapup', '')
    redis.call('ZADD', K_TIMERS, 'GT', NOW + wrap, 'wrapup:' .. aid)  -- adds, or extends only
  end
  free_agent(a, c.channel, c.cost)
  pull_for_agent(a)
end
return 'ok'

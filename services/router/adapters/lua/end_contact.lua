-- ARGV: now, dedupe_key, contact_id, reason. The customer left: a waiting or offered
-- contact is abandoned; a contact already with an agent just records that they left.
local dedupe, cid, reason = ARGV[2], ARGV[3], ARGV[4]
if not first_time(dedupe) then return 'duplicate' end
local c = load_contact(cid)
if not c then return 'not_found' end
if c.state == 'queued' or c.state == 'offered' then
  leave_wait(c)
  redis.call('HSET', k_contact(cid), 'state', 'abandoned', 'ended_at', NOW, 'end_reason', reason)
  emit('contact.abandoned', cid, {contact_id = cid, queue = c.queue, channel = c.channel,
    wait_ms = NOW - c.enqueued_at})
  if c.state == 'offered' then
    local o = hgetall(k_offer(c.offer))
    if o and o.state == 'pending' then close_offer(c.offer, o, 'expired', 'customer_left') end
  end
  retire_contact(cid)
  campaign_outcome(c, 'abandoned')
  return 'abandoned'
end
if c.state == 'scheduled' then  -- waiting for its queue to open: nothing to abandon
  disarm('open:' .. cid)
  redis.call('HSET', k_contact(cid), 'state', 'closed', 'ended_at', NOW, 'end_reason', reason)
  retire_contact(cid)
  return 'closed'
end
redis.call('HSET', k_contact(cid), 'customer_left', NOW)
return 'noted'

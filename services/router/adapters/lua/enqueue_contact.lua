-- ARGV: now, dedupe_key, contact_id, json {channel, queue, tier, intent, customer_id,
--       offset_ms, skills, data}
-- Idempotent on the event id (dedupe_key) and on the contact id.
local dedupe, cid, spec = ARGV[2], ARGV[3], cjson.decode(ARGV[4])
if redis.call('SET', dedupe, '1', 'NX', 'EX', 604800) == false then return 'duplicate' end
if redis.call('EXISTS', k_contact(cid)) == 1 then return 'exists' end
if not POLICY.queues[spec.queue] or not POLICY.channels[spec.channel] then return 'no_queue' end
local score = NOW - spec.offset_ms
redis.call('HSET', k_contact(cid), 'state', 'queued', 'channel', spec.channel, 'queue', spec.queue,
  'step', 0, 'tier', spec.tier, 'intent', spec.intent, 'customer', spec.customer_id,
  'score', score, 'enqueued_at', NOW, 'data', spec.data)
redis.call('ZADD', k_wait(spec.queue, 0, spec.channel), score, cid)
emit('omniroute.contact.queued.v1', cid, {contact_id = cid, queue = spec.queue, channel = spec.channel,
  tier = spec.tier, customer_id = spec.customer_id, required_skills = spec.skills})
local c = load_contact(cid)
push_contact(c)
return 'queued'

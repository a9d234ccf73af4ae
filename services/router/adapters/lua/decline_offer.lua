-- ARGV: now, offer_id, agent_id, reason. Returns ok | not_found | forbidden | gone
-- The decliner is skipped for this contact while anyone else can take it.
local oid, aid, reason = ARGV[2], ARGV[3], ARGV[4]
local o = hgetall(k_offer(oid))
if not o then return 'not_found' end
if o.agent ~= aid then return 'forbidden' end
if o.state == 'declined' then return 'ok' end
if o.state ~= 'pending' then return 'gone' end
redis.call('HSET', k_agent(aid), 'misses', 0)  -- an answer breaks a run of missed offers
close_offer(oid, o, 'declined', reason)
return 'ok'

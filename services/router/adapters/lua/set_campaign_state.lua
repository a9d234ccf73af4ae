-- ARGV: now, campaign id, running | paused | cancelled. Calls under way finish; a
-- cancelled campaign starts nothing more and expires. Returns ok | not_found | finished.
local id, state = ARGV[2], ARGV[3]
local current = redis.call('HGET', k_campaign(id), 'state')
if not current then return 'not_found' end
if current == 'finished' or current == 'cancelled' then return 'finished' end
if state == 'cancelled' then
  retire_campaign(id, 'cancelled')
else
  redis.call('HSET', k_campaign(id), 'state', state)
  if state == 'running' then redis.call('SADD', K_CAMPAIGNS, id) else redis.call('SREM', K_CAMPAIGNS, id) end
end
return 'ok'

-- ARGV: now, agent_id, json {name, capacity, channels, skills, quals}
-- Creates or updates an agent's profile and moves it to the pools its skills earn.
local aid, p = ARGV[2], cjson.decode(ARGV[3])
local old = load_agent(aid)
redis.call('SADD', K_AGENTS, aid)
if old then leave_pools(old) end
redis.call('HSET', k_agent(aid), 'name', p.name, 'capacity', p.capacity,
  'channels', cjson.encode(p.channels), 'skills', cjson.encode(p.skills), 'sip_uri', p.sip_uri or '', 'quals', cjson.encode(p.quals))
if not old then
  redis.call('HSET', k_agent(aid), 'state', 'offline', 'reason', '', 'load', 0, 'busy', '{}',
    'idle_since', NOW, 'rr', 0)
end
local a = load_agent(aid)
refresh_pools(a)
pull_for_agent(a)
return old and 'updated' or 'created'

-- ARGV: now, agent_id, timeout_ms. Presence: arms a timer that takes a silent agent
-- offline (fire_timer), so a closed browser never leaves a ghost "available" agent.
local aid, timeout = ARGV[2], tonumber(ARGV[3])
local a = load_agent(aid)
if not a then return 'not_found' end
if a.state == 'offline' then return 'offline' end
redis.call('HSET', k_agent(aid), 'last_seen', NOW)
redis.call('ZADD', K_TIMERS, NOW + timeout, 'presence:' .. aid)
return 'ok'

-- ARGV: now, agent_id, state (offline|available|not_ready), reason, presence_timeout_ms
-- Going offline re-queues the agent's pending offers; becoming available pulls work.
-- Any other state arms the presence timer: a silent agent goes offline (fire_timer).
local aid, state, reason, presence = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5] or '')
local a = load_agent(aid)
if not a then return 'not_found' end
if state == 'offline' then
  go_offline(a, reason)
  return 'ok'
end
local was = a.state
set_agent_state(a, state, reason)
if state == 'available' and (was == 'offline' or was == 'not_ready') then a.idle_since = NOW end
if presence and presence > 0 then
  redis.call('HSET', k_agent(aid), 'last_seen', NOW)
  arm('presence:' .. aid, NOW + presence)
end
save_agent_load(a)
refresh_pools(a)
if state == 'available' then pull_for_agent(a) end
return 'ok'

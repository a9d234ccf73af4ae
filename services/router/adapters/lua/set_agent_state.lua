-- ARGV: now, agent_id, state (offline|available|not_ready), reason
-- Going offline re-queues the agent's pending offers; becoming available pulls work.
local aid, state, reason = ARGV[2], ARGV[3], ARGV[4]
local a = load_agent(aid)
if not a then return 'not_found' end
local was = a.state
set_agent_state(a, state, reason)
if state == 'available' and was ~= 'available' and a.load == 0 then a.idle_since = NOW end
save_agent_load(a)
refresh_pools(a)
if state == 'offline' then
  for _, oid in ipairs(redis.call('SMEMBERS', k_agent(aid) .. ':offers')) do
    local o = hgetall(k_offer(oid))
    if o and o.state == 'pending' then close_offer(oid, o, 'expired', 'agent_offline') end
  end
  a = load_agent(aid)
end
if state == 'available' then pull_for_agent(a) end
return 'ok'

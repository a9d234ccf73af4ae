-- ARGV: now ('' = Redis time), agent_id, timeout_ms. Not prefixed with common.lua: a
-- heartbeat is the most frequent call of all, so it only pushes the presence timer back
-- (fire_timer takes a silent agent offline, so a closed browser never leaves a ghost).
-- The timer is armed whenever the agent is signed in, so ZADD XX finds it.
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local aid, member = ARGV[2], 'presence:' .. ARGV[2]
local due = now + tonumber(ARGV[3])
if redis.call('ZADD', K_TIMERS, 'XX', 'CH', due, member) == 1 then return 'ok' end
if redis.call('ZSCORE', K_TIMERS, member) then return 'ok' end  -- pushed back to the same ms
local state = redis.call('HGET', k_agent(aid), 'state')
if not state then return 'not_found' end
if state == 'offline' then return 'offline' end
redis.call('ZADD', K_TIMERS, due, member)  -- signed in without a timer (presence was off)
return 'ok'

-- ARGV: now, campaign id, '1' when its hours are open now, most targets to start.
-- Starts the targets that are due while the campaign may: voice calls while an agent is
-- free for them (campaigns.lua: agent_free_for), email at the campaign's pace. A target
-- on the do-not-contact list is passed over for good. Returns how many it started.
local id, open, most = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
local spec = campaign_spec(id)
if not spec then
  redis.call('SREM', K_CAMPAIGNS, id)
  return 0
end
if not open or redis.call('HGET', k_campaign(id), 'state') ~= 'running' then return 0 end
local started = 0
for _ = 1, most do
  local due = redis.call('ZRANGEBYSCORE', k_campaign_due(id), '-inf', NOW, 'LIMIT', 0, 1)
  if #due == 0 then break end
  local tid = due[1]
  local raw = redis.call('HGET', k_campaign_targets(id), tid)
  local t = raw and cjson.decode(raw)
  if not t then
    redis.call('ZREM', k_campaign_due(id), tid)
  elseif redis.call('SISMEMBER', K_DNC, t.a) == 1 then
    redis.call('ZREM', k_campaign_due(id), tid)
    attempt_ended(id, spec, tid, t, nil, 'do_not_contact')
  elseif spec.channel == 'voice' then
    if not agent_free_for(spec) then break end
    redis.call('ZREM', k_campaign_due(id), tid)
    call_target(spec, tid, t)
  else
    if NOW < (tonumber(redis.call('HGET', k_campaign(id), 'next_send')) or 0) then break end
    redis.call('ZREM', k_campaign_due(id), tid)
    write_target(spec, tid, t)
  end
  started = started + 1
  if redis.call('HGET', k_campaign(id), 'state') ~= 'running' then break end  -- its last target
end
return started

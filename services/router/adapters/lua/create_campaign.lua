-- ARGV: now, json campaign (Campaign.compiled), json [target rows]. Returns ok | exists.
local spec, targets = cjson.decode(ARGV[2]), cjson.decode(ARGV[3])
local id = spec.id
if redis.call('EXISTS', k_campaign(id)) == 1 then return 'exists' end
redis.call('HSET', k_campaign(id), 'spec', ARGV[2], 'state', 'running', 'total', #targets, 'done', 0,
  'inflight', 0, 'attempts', 0, 'created_at', NOW)
-- In slices: a command takes a bounded number of arguments.
for i = 1, #targets, 200 do
  local rows, due = {}, {}
  for j = i, math.min(i + 199, #targets) do
    local t = targets[j]
    rows[#rows + 1] = t.id
    rows[#rows + 1] = cjson.encode({a = t.a, n = t.n, c = t.c, k = 0, s = 'pending'})
    due[#due + 1] = NOW - 1 + j / 1e6  -- due now, in the order given
    due[#due + 1] = t.id
  end
  redis.call('HSET', k_campaign_targets(id), unpack(rows))
  redis.call('ZADD', k_campaign_due(id), unpack(due))
end
redis.call('SADD', K_CAMPAIGNS, id)
redis.call('ZADD', K_CAMPAIGN_INDEX, NOW, id)
return 'ok'

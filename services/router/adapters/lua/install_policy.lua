-- ARGV: doc_json, compiled_json, source, mode (file | api). Not prefixed with common.lua.
-- The active policy lives in Redis with a version every replica polls. A policy file is
-- installed only when it differs from the file installed last (so an API change survives
-- replica restarts); the API always installs. Returns the new version, or 0: unchanged,
-- or 'stranded:<waiting sets>' when contacts still wait in a queue, step or channel the
-- new policy drops (checked here, in the same atomic step as the change).
local doc, compiled, source, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if mode == 'file' then
  if redis.call('EXISTS', K_POLICY_DOC) == 1 and redis.call('GET', K_POLICY_SOURCE) == source then
    return 0
  end
end
local old = cjson.decode(redis.call('GET', K_POLICY) or '{"queues":{}}')
local new = cjson.decode(compiled)
local stranded = {}
for q, oq in pairs(old.queues) do
  local nq = new.queues[q]
  for s = 0, oq.steps - 1 do
    for _, ch in ipairs(oq.channels) do
      local kept = false
      if nq and s < nq.steps then
        for _, nch in ipairs(nq.channels) do if nch == ch then kept = true end end
      end
      if not kept and redis.call('ZCARD', k_wait(q, s, ch)) > 0 then stranded[#stranded + 1] = k_wait(q, s, ch) end
    end
  end
end
if #stranded > 0 then
  table.sort(stranded)
  return 'stranded:' .. table.concat(stranded, ',')
end
if mode == 'file' then redis.call('SET', K_POLICY_SOURCE, source) end
redis.call('SET', K_POLICY_DOC, doc)
redis.call('SET', K_POLICY, compiled)
return redis.call('INCR', K_POLICY_VERSION)

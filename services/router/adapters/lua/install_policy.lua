-- ARGV: doc_json, compiled_json, source, mode (file | api). Not prefixed with common.lua.
-- The active policy lives in Redis with a version every replica polls. A policy file is
-- installed only when it differs from the file installed last (so an API change survives
-- replica restarts); the API always installs. Returns the new version, or 0: unchanged.
local doc, compiled, source, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if mode == 'file' then
  if redis.call('EXISTS', K_POLICY_DOC) == 1 and redis.call('GET', K_POLICY_SOURCE) == source then
    return 0
  end
  redis.call('SET', K_POLICY_SOURCE, source)
end
redis.call('SET', K_POLICY_DOC, doc)
redis.call('SET', K_POLICY, compiled)
return redis.call('INCR', K_POLICY_VERSION)

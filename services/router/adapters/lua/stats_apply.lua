-- KEYS: st:offsets, st:agents, st:agentstates, st:seen (the other keys, named in the
-- batch, share their hash tag). ARGV[1]: json of one projected batch (Batch.payload).
-- Writes every change of the batch at once, unless another replica projected some of
-- these offsets since they were read (returns 0: read again). Numbers that can exceed
-- 14 digits travel as strings, so Lua never rounds them.
local p = cjson.decode(ARGV[1])
for tp, range in pairs(p.offsets) do
  local done = redis.call('HGET', KEYS[1], tp)
  if done and tonumber(done) >= tonumber(range[1]) then return 0 end
end
for _, b in ipairs(p.buckets) do
  local cur = redis.call('GET', b[1])
  local totals = cur and cjson.decode(cur) or {}
  for name, n in pairs(b[3]) do totals[name] = (totals[name] or 0) + n end
  redis.call('SET', b[1], cjson.encode(totals), 'EX', b[2])
end
for _, c in ipairs(p.contacts) do redis.call('SET', c[1], c[2], 'EX', p.contact_ttl) end
for _, w in ipairs(p.waiting) do
  if w[3] == cjson.null then redis.call('ZREM', w[1], w[2]) else redis.call('ZADD', w[1], w[3], w[2]) end
end
if #p.agents > 0 then
  local flat = {}
  for _, a in ipairs(p.agents) do flat[#flat + 1] = a[1]; flat[#flat + 1] = a[2] end
  redis.call('HSET', KEYS[2], unpack(flat))
end
for _, c in ipairs(p.counts) do redis.call('HINCRBY', KEYS[3], c[1], c[2]) end
for _, o in ipairs(p.open) do
  local n = redis.call('HINCRBY', o[1], o[3], o[4])
  local s = redis.call('HINCRBY', o[2], o[3], o[5])
  if n == 0 and s == 0 then redis.call('HDEL', o[1], o[3]); redis.call('HDEL', o[2], o[3]) end
end
if #p.seen > 0 then
  local flat = {}
  for _, id in ipairs(p.seen) do flat[#flat + 1] = p.now; flat[#flat + 1] = id end
  redis.call('ZADD', KEYS[4], unpack(flat))
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', p.seen_before)
end
local marks = {}
for tp, range in pairs(p.offsets) do marks[#marks + 1] = tp; marks[#marks + 1] = range[2] end
redis.call('HSET', KEYS[1], unpack(marks))
return 1

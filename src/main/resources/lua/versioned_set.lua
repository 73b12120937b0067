-- Replace a versioned value only with a strictly higher version (see cache.VersionedCache).
-- KEYS[1] value key, KEYS[2] generation key (same hash tag)
-- ARGV[1] version, ARGV[2] payload, ARGV[3] expected generation ('' for writers), ARGV[4] ttl ms
-- (at least the generation's lifetime: that is what keeps a pinned fill from outliving a write)
-- returns 1 when written, 0 when refused
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return 0
end
local current = redis.call('GET', KEYS[1])
if current then
  local v = tonumber(string.match(current, '^(%d+)|'))
  if v and v >= tonumber(ARGV[1]) then
    return 0
  end
end
local value = ARGV[1] .. '|' .. ARGV[2]
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], value)
end
return 1

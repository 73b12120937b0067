-- Before a cache fill reads Postgres: the current value (if any) and the hash tag's generation,
-- created when missing (a flush erases it, which voids fills that started before the flush).
-- KEYS[1] value key, KEYS[2] generation key; ARGV[1] a fresh random generation
local value = redis.call('GET', KEYS[1]) or ''
local gen = redis.call('GET', KEYS[2])
if not gen then
  gen = ARGV[1]
  redis.call('SET', KEYS[2], gen)
end
return {value, gen}

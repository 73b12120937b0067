-- Before a cache fill reads Postgres: the current value (if any) and the hash tag's generation,
-- created when missing (a flush erases it, which voids fills that started before the flush).
-- The generation lives ARGV[2] ms from its creation and is never refreshed: a fill pinned to it
-- lands at most that long after it was pinned, or is refused (see cache.VersionedCache, "TTLs").
-- KEYS[1] value key, KEYS[2] generation key; ARGV[1] a fresh random generation, ARGV[2] its ttl ms
local value = redis.call('GET', KEYS[1]) or ''
local gen = redis.call('GET', KEYS[2])
if not gen then
  gen = ARGV[1]
  redis.call('SET', KEYS[2], gen, 'PX', ARGV[2])
end
return {value, gen}

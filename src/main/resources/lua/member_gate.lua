-- The member's side of an inquiry, in one round trip (both keys share the member's hash tag):
-- its status (VersionedCache entry, or false on a miss) and a token bucket for its request rate
-- (the pattern of Redis' rate-limiter documentation; time from the server, so instances agree).
-- KEYS[1] member status, KEYS[2] bucket; ARGV[1] tokens per second, ARGV[2] burst
-- Returns {status or false, 1 when allowed else 0, micros until a token is available}
local status = redis.call('GET', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
local tokens = tonumber(bucket[1]) or burst
local ts = tonumber(bucket[2]) or now
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
end
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[2], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.0f', math.max(now, ts)))
redis.call('PEXPIRE', KEYS[2], math.ceil(burst * 1000 / rate) + 1000)
return {status, allowed, wait}

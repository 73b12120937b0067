-- Takes back an inquiry inquiry.lua recorded whose answer was then not served: the lender's field
-- gets its previous value back (only if no later inquiry moved it since), the day's count goes down.
-- KEYS[1] window hash; ARGV[1] lender, ARGV[2] the time recorded (ms), ARGV[3] previous value or '',
-- ARGV[4] epoch day
local f = 'l:' .. ARGV[1]
if redis.call('HGET', KEYS[1], f) == ARGV[2] then
  if ARGV[3] == '' then
    redis.call('HDEL', KEYS[1], f)
  else
    redis.call('HSET', KEYS[1], f, ARGV[3])
  end
end
local d = 'd:' .. ARGV[4]
if redis.call('HEXISTS', KEYS[1], d) == 1 and redis.call('HINCRBY', KEYS[1], d, -1) <= 0 then
  redis.call('HDEL', KEYS[1], d)
end
return 1

-- Rebuilds a person's inquiry window from the access log (a union: rows are immutable, so adding
-- them again changes nothing, and inquiries recorded meanwhile are kept), then marks it ready.
-- KEYS[1] window sorted set, KEYS[2] marker; ARGV[1] marker ttl ms, ARGV[2] window ttl ms,
-- ARGV[3..] pairs of (time ms, member)
for i = 3, #ARGV, 200 do
  local args = {}
  for j = i, math.min(i + 199, #ARGV), 2 do
    args[#args + 1] = ARGV[j]
    args[#args + 1] = ARGV[j + 1]
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
if #ARGV > 2 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1

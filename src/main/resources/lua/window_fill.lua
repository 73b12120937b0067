-- Rebuilds a person's inquiry window from the access log's GRANTED HARD rows, merged into what is
-- there (max per field: inquiries recorded meanwhile, still in flight, are kept), then marks it ready.
-- KEYS[1] window hash, KEYS[2] marker; ARGV[1] marker ttl ms, ARGV[2] window ttl ms,
-- ARGV[3..] pairs of (field, value): "l:<lender>" = last time ms, "d:<epochDay>" = count
for i = 3, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not cur or tonumber(cur) < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
if #ARGV > 2 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1

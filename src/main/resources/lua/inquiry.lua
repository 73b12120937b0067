-- The inquiry hot path's one Redis round trip for the person (all keys share the person's hash tag).
-- KEYS[1] consent slot (VersionedCache "<v>|<consentId>|<scope>|<expiresMs>" or "<v>|NONE")
-- KEYS[2] score (VersionedCache "<v>|<json>")
-- KEYS[3] inquiry window: sorted set, member "<G|D>|<lenderId>|<inquiryId>", score = time in ms
-- KEYS[4] window marker: present while the window is known to hold the access log's rows
-- ARGV[1] now (ms), ARGV[2] requested scope, ARGV[3] lender id, ARGV[4] inquiry id,
-- ARGV[5] 'record' (judge consent, record the inquiry, count) or 'peek' (count only),
-- ARGV[6] window ttl ms, ARGV[7..9] window lengths ms (short, medium, long), ARGV[10] inquiries window ms
-- Returns {'MISS', consentMissing, scoreMissing, windowMissing} without changing anything when a
-- piece must first be filled from Postgres, else
-- {'OK', decision, reason, consentId, score, distinctShort, distinctMedium, distinctLong, inquiries, member}.
local now = tonumber(ARGV[1])
local record = ARGV[5] == 'record'
local consent = false
local decision, reason, consentId = 'DENIED', 'no_consent', ''
if record then
  consent = redis.call('GET', KEYS[1])
  if consent then
    local payload = string.match(consent, '^%d+|(.*)$')
    local id, scope, expires = string.match(payload or '', '^([^|]+)|([^|]+)|(%d+)$')
    if id then
      if tonumber(expires) <= now then
        reason = 'expired'
      elseif scope == ARGV[2] or (scope == 'REPORT' and ARGV[2] == 'SCORE') then
        decision, reason, consentId = 'GRANTED', '', id
      else
        reason = 'scope'
      end
    end
  end
end
local score = false
if decision == 'GRANTED' then
  score = redis.call('GET', KEYS[2])
end
local ready = redis.call('EXISTS', KEYS[4]) == 1
if (record and not consent) or (decision == 'GRANTED' and not score) or not ready then
  return {'MISS', (record and not consent) and 1 or 0, (decision == 'GRANTED' and not score) and 1 or 0,
          ready and 0 or 1}
end
local member = ''
if record then
  member = string.sub(decision, 1, 1) .. '|' .. ARGV[3] .. '|' .. ARGV[4]
  redis.call('ZADD', KEYS[3], now, member)
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
local long = tonumber(ARGV[9])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - long))
local entries = redis.call('ZRANGEBYSCORE', KEYS[3], now - long, '+inf', 'WITHSCORES')
local latest = {}
local inquiries = 0
local inquiryWindow = now - tonumber(ARGV[10])
for i = 1, #entries, 2 do
  local at = tonumber(entries[i + 1])
  local kind, lender = string.match(entries[i], '^(%a)|([^|]+)|')
  if at >= inquiryWindow then
    inquiries = inquiries + 1
  end
  if kind == 'G' and (latest[lender] == nil or latest[lender] < at) then
    latest[lender] = at
  end
end
local short, medium, longCount = 0, 0, 0
for _, at in pairs(latest) do
  if at >= now - tonumber(ARGV[7]) then short = short + 1 end
  if at >= now - tonumber(ARGV[8]) then medium = medium + 1 end
  longCount = longCount + 1
end
return {'OK', decision, reason, consentId, score or '', short, medium, longCount, inquiries, member}

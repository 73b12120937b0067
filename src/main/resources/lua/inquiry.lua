-- The inquiry's one decision, on the person's hash tag (all keys share it). The consent rule lives
-- here and nowhere else: every decision (the inquiry, ConsentDecisions' callers) runs this script.
-- KEYS[1] consent slot (VersionedCache "<v>|<consentId>|<scope>|<expiresMs>" or "<v>|NONE")
-- KEYS[2] score (VersionedCache "<v>|<json>", the json with "relationships": sorted lender ids)
-- KEYS[3] window: hash of "l:<lender>" = last GRANTED HARD time ms, "d:<epochDay>" = GRANTED HARD
--         inquiries that UTC day (see inquiry.InquiryCache for the layout and its bound)
-- KEYS[4] window marker: present while the window is known to hold the access log's rows
-- KEYS[5] the person's protections (VersionedCache "<v>|<frozenSinceMs>|<liftedUntilMs>|<fraudUntilMs>"
--         or "<v>|NONE", rights.ProtectionCache): a freeze refuses a HARD inquiry a consent would allow
--         (file_frozen); a fraud alert flags a granted answer
-- ARGV[1] now ms, ARGV[2] requested scope, ARGV[3] lender id,
-- ARGV[4] mode: 'record' (decide, record a GRANTED HARD, count), 'judge' (decide only), 'peek' (count only)
-- ARGV[5] type HARD|SOFT, ARGV[6] '1' when an existing account may stand in for a consent,
-- ARGV[7] window ttl ms, ARGV[8..10] distinct-lender windows ms (short, medium, long), ARGV[11] day buckets
-- Returns {'MISS', consentMissing, scoreMissing, windowMissing, protectionsMissing} without changing
-- anything when a piece must first be filled from Postgres, else
-- {'OK', decision, reason, consentId, basis, score, short, medium, long, inquiries, takeBack, fraudAlert}
-- (takeBack: '' or "<previous l: value or ''>|<day>", for window_forget.lua).
local now = tonumber(ARGV[1])
local mode = ARGV[4]
local lender = ARGV[3]
local decision, reason, consentId, basis = 'DENIED', 'no_consent', '', ''
local consentMissing, scoreMissing, windowMissing, protectionsMissing = 0, 0, 0, 0
local score = false
local frozen, fraudAlert = false, 0
if mode ~= 'peek' then
  local protections = redis.call('GET', KEYS[5])
  if not protections then
    protectionsMissing = 1
  else
    local since, lifted, fraud = string.match(protections, '^%d+|(%d+)|(%d+)|(%d+)$')
    if since then
      frozen = tonumber(since) > 0 and tonumber(lifted) <= now
      if tonumber(fraud) > now then fraudAlert = 1 end
    end
  end
  local consent = redis.call('GET', KEYS[1])
  if not consent then
    consentMissing = 1
  else
    local payload = string.match(consent, '^%d+|(.*)$')
    local id, scope, expires = string.match(payload or '', '^([^|]+)|([^|]+)|(%d+)$')
    if id then
      if tonumber(expires) <= now then
        reason = 'expired'
      elseif scope == ARGV[2] or (scope == 'REPORT' and ARGV[2] == 'SCORE') then
        decision, reason, consentId, basis = 'GRANTED', '', id, 'CONSENT'
      else
        reason = 'scope'
      end
    end
  end
  -- a freeze refuses what a consent would allow (HARD only); without consent the answer stays
  -- consent_required: a freeze tells a lender without consent nothing
  if decision == 'GRANTED' and frozen and ARGV[5] == 'HARD' then
    decision, reason, consentId, basis = 'DENIED', 'file_frozen', '', ''
  end
  -- the score: served when GRANTED (not needed to judge), read for its relationships otherwise
  if (decision == 'GRANTED' and mode == 'record') or (decision ~= 'GRANTED' and ARGV[6] == '1') then
    score = redis.call('GET', KEYS[2])
    if not score then
      scoreMissing = 1
    elseif decision ~= 'GRANTED' and consentMissing == 0 then
      -- an existing credit relationship (read only when no consent already allows it)
      local ok, j = pcall(cjson.decode, string.match(score, '^%d+|(.*)$') or '')
      if ok and type(j) == 'table' and type(j.relationships) == 'table' then
        for _, l in ipairs(j.relationships) do
          if l == lender then
            decision, reason, consentId, basis = 'GRANTED', '', '', 'EXISTING_ACCOUNT'
            break
          end
        end
      end
    end
  end
end
-- the window is read only for an answer that shows it (a granted inquiry, a peek): a denial, even
-- one about a person nobody asked about before, neither rebuilds nor creates a window or a marker
local needsWindow = mode == 'peek' or (mode == 'record' and decision == 'GRANTED')
if needsWindow and redis.call('EXISTS', KEYS[4]) == 0 then
  windowMissing = 1
end
if consentMissing == 1 or scoreMissing == 1 or windowMissing == 1 or protectionsMissing == 1 then
  return {'MISS', consentMissing, scoreMissing, windowMissing, protectionsMissing}
end
if decision ~= 'GRANTED' then
  fraudAlert = 0
end
if not needsWindow then
  return {'OK', decision, reason, consentId, basis, score or '', 0, 0, 0, 0, '', fraudAlert}
end
local day = math.floor(now / 86400000)
local fields = redis.call('HGETALL', KEYS[3])
local h = {}
for i = 1, #fields, 2 do
  h[fields[i]] = fields[i + 1]
end
local takeBack = ''
if mode == 'record' and decision == 'GRANTED' and ARGV[5] == 'HARD' then
  local lf = 'l:' .. lender
  local own = h[lf]
  takeBack = (own or '') .. '|' .. day
  if not own or tonumber(own) < now then
    redis.call('HSET', KEYS[3], lf, now)
    h[lf] = tostring(now)
  end
  h['d:' .. day] = tostring(redis.call('HINCRBY', KEYS[3], 'd:' .. day, 1))
  redis.call('PEXPIRE', KEYS[3], ARGV[7])
end
local short, medium, long = now - tonumber(ARGV[8]), now - tonumber(ARGV[9]), now - tonumber(ARGV[10])
local firstDay = day - tonumber(ARGV[11]) + 1
local s, m, l, inquiries = 0, 0, 0, 0
local stale = {}
for f, v in pairs(h) do
  local kind = string.sub(f, 1, 2)
  if kind == 'l:' then
    local at = tonumber(v) or 0
    if at >= long then
      l = l + 1
      if at >= medium then m = m + 1 end
      if at >= short then s = s + 1 end
    else
      stale[#stale + 1] = f
    end
  elseif kind == 'd:' then
    local d = tonumber(string.sub(f, 3))
    if d and d >= firstDay then
      inquiries = inquiries + (tonumber(v) or 0)
    else
      stale[#stale + 1] = f
    end
  end
end
if #stale > 0 then
  redis.call('HDEL', KEYS[3], unpack(stale))
end
return {'OK', decision, reason, consentId, basis, score or '', s, m, l, inquiries, takeBack, fraudAlert}

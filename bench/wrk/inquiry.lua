-- wrk script for POST /v1/inquiries (bench/inquiry.sh).
-- env: BENCH_IDS    file of national ids, one a line (bench test data)
--      BENCH_TOKEN  lender bearer token
--      BENCH_MODE   "random" (default): a random borrower per request
--                   "pass": each thread walks its share of the file once, in order, then stops
--                   (the warm-up pass that fills every borrower's cache entries)
local ids = {}
local mode = os.getenv("BENCH_MODE") or "random"
local token = os.getenv("BENCH_TOKEN")
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
for line in io.lines(os.getenv("BENCH_IDS")) do
  ids[#ids + 1] = line
end

local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local n, next_i, last_i, done = 0, 1, 1, 0

function init(args)
  n = #ids
  math.randomseed(os.time() * 1000 + (tid or 1))
  -- "pass": thread t of T takes the slice [(t-1)*n/T + 1, t*n/T]
  local t = tid or 1
  local T = tonumber(os.getenv("BENCH_THREADS") or "1")
  next_i = math.floor((t - 1) * n / T) + 1
  last_i = math.floor(t * n / T)
  share = last_i - next_i + 1
end

local function body(id)
  return '{"nationalId":"' .. id .. '","purpose":"LOAN_ORIGINATION"}'
end

function request()
  local id
  if mode == "pass" then
    id = ids[next_i] or ids[last_i]
    next_i = next_i + 1
  else
    id = ids[math.random(n)]
  end
  return wrk.format("POST", "/v1/inquiries", headers, body(id))
end

if mode == "pass" then
  function response(status, hdrs, b)
    done = done + 1
    if done >= share then
      wrk.thread:stop()
    end
  end
end

-- BENCH_DELAY_MS: each connection waits this long before each request (a fixed offered rate of
-- about connections * 1000 / delay requests/s: bench/soak.sh)
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

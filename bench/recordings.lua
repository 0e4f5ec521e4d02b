-- wrk script for bench/recordings_bench.sh, in one of two modes (the first script argument):
--
--   create PREFIX USERS [LINK]   every request is a POST /recordings of a new recording,
--       {"recording_id":"PREFIX-<t>-<n>","recording_link":"LINK",
--        "recording_type":"audio","user_id":"bench-user-<k>"}
--     <t> the wrk thread, <n> its counter (so ids are unique across threads and requests), <k>
--     cycling over 0 .. USERS-1; LINK defaults to https://cdn.example.com/x.wav (written into
--     the JSON as it is: no quotes or backslashes). Headers given with -H (such as `Prefer: respond-async`) are kept.
--   read USERS            every request is a GET /recordings?user_id=bench-user-<k>&size=10,
--     <k> stepping through 0 .. USERS-1 (a different start and a large odd stride per thread,
--     so consecutive requests hit different users, as many phones would).
--
-- At the end it prints the responses by status, over all threads, in one line that
-- recordings_bench.sh reads:   statuses: 200=N 201=N 202=N 4xx=N 5xx=N other=N
--
--   wrk -t2 -c50 -d10s --latency -s bench/recordings.lua -H 'Authorization: Bearer TOKEN' \
--     http://127.0.0.1:PORT/recordings -- create wrk-sync 10000

-- Globals on purpose: setup() writes thread_number with thread:set, done() reads the counts
-- with thread:get, and both see only globals.
thread_number = 0
status_200, status_201, status_202, status_4xx, status_5xx, status_other = 0, 0, 0, 0, 0, 0

local mode = "read"
local prefix = "wrk"
local users = 10000
local link = "https://cdn.example.com/x.wav"
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  mode = args[1] or mode
  if mode == "create" then
    prefix = args[2] or prefix
    users = tonumber(args[3]) or users
    link = args[4] or link
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "read" then
    users = tonumber(args[2]) or users
    wrk.method = "GET"
  else
    error("recordings.lua: the first argument must be create or read, got " .. tostring(mode))
  end
  counter = (thread_number - 1) * 7919 -- a different first user per thread
end

function request()
  counter = counter + 1
  if mode == "create" then
    local body = string.format(
      '{"recording_id":"%s-%d-%d","recording_link":"%s",' ..
      '"recording_type":"audio","user_id":"bench-user-%d"}',
      prefix, thread_number, counter, link, counter % users)
    return wrk.format(nil, "/recordings", nil, body)
  end
  -- 7919 is prime, so k visits every user before repeating (for any USERS it does not divide).
  local k = (counter * 7919) % users
  return wrk.format(nil, string.format("/recordings?user_id=bench-user-%d&size=10", k))
end

function response(status, headers, body)
  if status == 200 then
    status_200 = status_200 + 1
  elseif status == 201 then
    status_201 = status_201 + 1
  elseif status == 202 then
    status_202 = status_202 + 1
  elseif status >= 400 and status < 500 then
    status_4xx = status_4xx + 1
  elseif status >= 500 then
    status_5xx = status_5xx + 1
  else
    status_other = status_other + 1
  end
end

function done(summary, latency, requests)
  local total = { s200 = 0, s201 = 0, s202 = 0, s4xx = 0, s5xx = 0, other = 0 }
  for _, thread in ipairs(threads) do
    total.s200 = total.s200 + thread:get("status_200")
    total.s201 = total.s201 + thread:get("status_201")
    total.s202 = total.s202 + thread:get("status_202")
    total.s4xx = total.s4xx + thread:get("status_4xx")
    total.s5xx = total.s5xx + thread:get("status_5xx")
    total.other = total.other + thread:get("status_other")
  end
  io.write(string.format("statuses: 200=%d 201=%d 202=%d 4xx=%d 5xx=%d other=%d\n",
    total.s200, total.s201, total.s202, total.s4xx, total.s5xx, total.other))
end

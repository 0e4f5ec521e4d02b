-- wrk script for bench/http_bench.sh: every request is a POST /events with its own JSON body,
--   {"user_id":"bench-<n>","event_type":"bench","event_source":"wrk","event_data":{"n":<n>}}
-- n is unique across threads (counter * 1000 + thread number), so every request appends a new
-- event for a new user. Headers given with -H (such as `Prefer: respond-async`) are kept.
--
--   wrk -t2 -c50 -d10s --latency -s bench/post_event.lua http://127.0.0.1:PORT/events

wrk.method = "POST"
wrk.path = "/events"
wrk.headers["Content-Type"] = "application/json"

-- Set in each thread's own Lua state by setup() below (a global on purpose: thread:set writes
-- globals, which a `local` would shadow).
thread_number = 0

local counter = 0
local stride = 1000 -- more than any thread count wrk is given here
local threads_created = 0

function setup(thread)
  threads_created = threads_created + 1
  thread:set("thread_number", threads_created)
end

function request()
  counter = counter + 1
  local n = counter * stride + thread_number
  local body = string.format(
    '{"user_id":"bench-%d","event_type":"bench","event_source":"wrk","event_data":{"n":%d}}',
    n, n)
  return wrk.format(nil, nil, nil, body)
end

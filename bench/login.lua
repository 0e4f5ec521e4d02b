-- wrk script for bench/login_bench.sh: every request is a POST /auth/login with the right
-- password of one of the benchmark's users,
--   {"username":"benchuser<NN>","password":"bench-password-<NN>"}   (NN = 01 .. USERS)
-- cycling over the users; each thread starts at a different user. At the end it prints the
-- responses by status, over all threads, in one line that login_bench.sh reads:
--   statuses: 200=N 401=N 429=N 503=N other=N
--
--   wrk -t2 -c32 -d15s --latency -s bench/login.lua http://127.0.0.1:PORT/auth/login -- USERS

wrk.method = "POST"
wrk.path = "/auth/login"
wrk.headers["Content-Type"] = "application/json"

-- Globals on purpose: setup() writes thread_number with thread:set, done() reads the counts
-- with thread:get, and both see only globals.
thread_number = 0
users = 50
status_200, status_401, status_429, status_503, status_other = 0, 0, 0, 0, 0

local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  users = tonumber(args[1]) or users
  counter = (thread_number - 1) * 17 -- a different first user per thread
end

function request()
  local n = counter % users + 1
  counter = counter + 1
  local body = string.format('{"username":"benchuser%02d","password":"bench-password-%02d"}', n, n)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then
    status_200 = status_200 + 1
  elseif status == 401 then
    status_401 = status_401 + 1
  elseif status == 429 then
    status_429 = status_429 + 1
  elseif status == 503 then
    status_503 = status_503 + 1
  else
    status_other = status_other + 1
  end
end

function done(summary, latency, requests)
  local total = { s200 = 0, s401 = 0, s429 = 0, s503 = 0, other = 0 }
  for _, thread in ipairs(threads) do
    total.s200 = total.s200 + thread:get("status_200")
    total.s401 = total.s401 + thread:get("status_401")
    total.s429 = total.s429 + thread:get("status_429")
    total.s503 = total.s503 + thread:get("status_503")
    total.other = total.other + thread:get("status_other")
  end
  io.write(string.format("statuses: 200=%d 401=%d 429=%d 503=%d other=%d\n",
    total.s200, total.s401, total.s429, total.s503, total.other))
end

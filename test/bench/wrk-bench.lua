-- wrk script of `npm run bench` (wrk.ts runs it): the request comes from the environment, and the
-- run ends with one line `BENCH {json}`: throughput, exact p50/p95/p99 latencies, errors, pool use.
--   BENCH_METHOD   request method (default POST)
--   BENCH_HEADERS  "name: value" lines
--   BENCH_BODY     the body of every request, or
--   BENCH_POOL     a file of single-use requests (codes, refresh tokens, DPoP proofs), one a line:
--                  "<DPoP proof or nothing><TAB><body>"; each is sent once. wrk's threads share the
--                  lines by stride (BENCH_THREADS). Once a thread's share is used up it sends a body
--                  the server rejects, so a pool too small shows as errors, never as a reused credential.
-- Statuses above 399 count as errors (wrk's own rule); bodies are not read (that would slow wrk).

local method = os.getenv("BENCH_METHOD") or "POST"
local pool_file = os.getenv("BENCH_POOL") or ""
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.-)%s*$")
  if name then headers[name] = value end
end

wrk.method = method
for name, value in pairs(headers) do wrk.headers[name] = value end
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then wrk.body = body end

-- Setup phase (its own Lua state): number the threads, keep them to read their counters in done().
local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

-- Running phase (one Lua state per thread).
used = 0
local requests = nil

local function with_headers(extra)
  local all = {}
  for name, value in pairs(headers) do all[name] = value end
  for name, value in pairs(extra) do all[name] = value end
  return all
end

function init(args)
  if pool_file == "" then return end
  requests = {}
  local n = 0
  for line in io.lines(pool_file) do
    if n % thread_count == (thread_index or 0) then
      local tab = line:find("\t", 1, true)
      local proof, form = line:sub(1, tab - 1), line:sub(tab + 1)
      local extra = proof ~= "" and { ["DPoP"] = proof } or {}
      requests[#requests + 1] = wrk.format(method, wrk.path, with_headers(extra), form)
    end
    n = n + 1
  end
  requests.exhausted = wrk.format(method, wrk.path, with_headers({}), "pool_exhausted=1")
end

if pool_file ~= "" then
  function request()
    used = used + 1
    return requests[used] or requests.exhausted
  end
end

function done(summary, latency, _)
  local pool_used = 0
  for _, thread in ipairs(threads) do pool_used = pool_used + (thread:get("used") or 0) end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.2f,"p50Ms":%.3f,"p95Ms":%.3f,"p99Ms":%.3f,"non2xx":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"poolUsed":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect, e.read, e.write, e.timeout, pool_used))
end

-- wrk script for scripts/bench.sh, configured from the environment so that
-- one file serves every figure:
--
--   BENCH_METHOD        GET (default) or POST
--   BENCH_COOKIE        Cookie header to send (optional)
--   BENCH_BODY          request body (POST)
--   BENCH_CTYPE         Content-Type of the body
--   BENCH_COUNT_STATUS  1: count answers per status code (costs a Lua call
--                       per response: used for the slow login figures only)
--   BENCH_OUT           file that receives the result as one JSON object
--
-- wrk counts answers with status >= 400 as errors.status, and requests that
-- take longer than --timeout as errors.timeout (a stalled request).

local method = os.getenv("BENCH_METHOD") or "GET"
local cookie = os.getenv("BENCH_COOKIE")
local body = os.getenv("BENCH_BODY")
local ctype = os.getenv("BENCH_CTYPE")

wrk.method = method
if cookie and cookie ~= "" then
   wrk.headers["Cookie"] = cookie
end
if body and body ~= "" then
   wrk.body = body
   wrk.headers["Content-Type"] = ctype or "application/x-www-form-urlencoded"
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

if os.getenv("BENCH_COUNT_STATUS") == "1" then
   counts = {}
   function response(status, headers, body)
      counts[status] = (counts[status] or 0) + 1
   end
end

-- {"200":n,...} summed over the threads, or nil when not counted.
local function status_counts()
   local total, any = {}, false
   for _, t in ipairs(threads) do
      local c = t:get("counts")
      if type(c) == "table" then
         for status, n in pairs(c) do
            total[status] = (total[status] or 0) + n
            any = true
         end
      end
   end
   if not any then
      return nil
   end
   local keys = {}
   for status in pairs(total) do
      table.insert(keys, status)
   end
   table.sort(keys)
   local parts = {}
   for _, status in ipairs(keys) do
      table.insert(parts, string.format('"%d":%d', status, total[status]))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   local rps, ok_rps = 0, 0
   if seconds > 0 then
      rps = summary.requests / seconds
      ok_rps = (summary.requests - e.status) / seconds
   end
   local fields = {
      string.format('"requests":%d', summary.requests),
      string.format('"duration_s":%.3f', seconds),
      string.format('"bytes":%d', summary.bytes),
      string.format('"rps":%.1f', rps),
      string.format('"ok_rps":%.1f', ok_rps),
      string.format('"latency_mean_us":%.1f', latency.mean),
      string.format('"latency_max_us":%d', latency.max),
      string.format('"p50_us":%d', latency:percentile(50)),
      string.format('"p90_us":%d', latency:percentile(90)),
      string.format('"p99_us":%d', latency:percentile(99)),
      string.format('"p999_us":%d', latency:percentile(99.9)),
      string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
                    e.connect, e.read, e.write, e.status, e.timeout),
   }
   local statuses = status_counts()
   if statuses then
      table.insert(fields, '"statuses":' .. statuses)
   end
   local line = "{" .. table.concat(fields, ",") .. "}\n"
   local path = os.getenv("BENCH_OUT")
   if path and path ~= "" then
      local f = assert(io.open(path, "w"))
      f:write(line)
      f:close()
   else
      io.write(line)
   end
end

-- wrk script of bench/dashboard_load.py: every request carries the evaluator's API token (or
-- a session cookie for the browser pages) and X-Forwarded-Proto, as behind the TLS proxy in
-- production; done() prints one line of JSON with the percentiles (microseconds) and the
-- count of answers other than 200 (a redirect to the login page would be one), which the
-- benchmark reads.

local token = os.getenv("BENCH_TOKEN") or ""
local cookie = os.getenv("BENCH_COOKIE") or ""

wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["Accept"] = "application/json, text/html"
if token ~= "" then
  wrk.headers["Authorization"] = "Token " .. token
end
if cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_ok")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"max": %d, "mean": %.1f, "bad_status": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean,
    bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  ))
end

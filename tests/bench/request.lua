-- wrk script used by run.sh. It sends one fixed request built from the
-- BENCH_* environment variables, can pause between the requests of each
-- connection to hold a steady rate, and prints one "BENCH key=value ..." line
-- that run.sh parses. Latencies are in microseconds, as wrk records them.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body_file = os.getenv("BENCH_BODY_FILE") or ""
local pause_ms = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")

local headers = {
  ["x-api-key"] = os.getenv("BENCH_API_KEY"),
  ["x-api-secret"] = os.getenv("BENCH_API_SECRET"),
  ["Accept"] = "application/json",
}

local body = nil
if body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  body = file:read("*a")
  file:close()
  headers["Content-Type"] = "application/json"
end

local request_text = nil

function init(args)
  request_text = wrk.format(method, path, headers, body)
end

function request()
  return request_text
end

-- wrk waits delay() milliseconds before each request of a connection, so
-- the offered rate is at most connections * 1000 / (pause + latency).
if pause_ms > 0 then
  function delay()
    return pause_ms
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end

-- wrk script for bench/purchase_storm.py: each request buys one ticket for a
-- random buyer on a random target with a fresh Idempotency-Key, and the run
-- ends with one JSON line of counts and latencies.
-- The setup file (first script argument) defines `targets` and `tokens`.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  dofile(args[1])
  ok, failed, server_errors, counter = 0, 0, 0, 0
  math.randomseed(os.time() + id * 7919)
end

function request()
  counter = counter + 1
  local target = targets[math.random(#targets)]
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("w%d-%d-%d", id, counter, math.random(1e9)),
  }
  local body = string.format(
    '{"items":[{"ticket_type_id":"%s","quantity":1}]}', target[2])
  return wrk.format("POST", "/events/" .. target[1] .. "/purchase", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    ok = ok + 1
  else
    failed = failed + 1
    if status >= 500 then server_errors = server_errors + 1 end
  end
end

function done(summary, latency, requests)
  local total_ok, total_failed, total_5xx = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_failed = total_failed + thread:get("failed")
    total_5xx = total_5xx + thread:get("server_errors")
  end
  io.write(string.format(
    '{"ok": %d, "failed": %d, "server_errors": %d, "duration_us": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    total_ok, total_failed, total_5xx, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end

-- wrk script for the benchmark: POSTs one fixed body and prints a JSON summary when done.
--   wrk -t2 -c32 -d10s -s benchmarks/lua/post.lua http://127.0.0.1:PORT/predictions/mlp -- BODYFILE CONTENT-TYPE
-- BODYFILE is sent as is (the JSON request for the MLP, the JPEG bytes for ResNet-18).

function init(args)
   local path = args[1]
   local content_type = args[2] or "application/octet-stream"
   if path == nil then
      error("post.lua needs the body file as its first argument (after --)")
   end
   local f = assert(io.open(path, "rb"))
   local body = f:read("*a")
   f:close()
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = content_type
end

-- One line, prefixed so the driver can find it in wrk's output. Latencies are in microseconds.
-- "status" counts responses with a status above 399 (wrk's own rule); with the socket errors
-- (connect, read, write, timeout) they make the error total.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, ' ..
      '"p50": %d, "p90": %d, "p99": %d, "p999": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max, latency.stdev,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end

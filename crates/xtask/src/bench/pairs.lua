-- wrk script: a different request each time, round-robin over pre-built requests.
-- args: MODE FILE THREADS [START], where MODE is
--   health    GET /health (the same request built the same way, as the baseline of the others)
--   whoami    GET /whoami with the pairs of FILE ("ak_… sk_…" per line), one pair per request
--   register  POST /credentials with the pairs of FILE, each pair once
-- Thread k of THREADS takes the lines k, k+THREADS, … so no two threads send the same pair; with
-- START, the threads begin START requests into the cycle (where an earlier run stopped).

local counter = 0
function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

local reqs = {}
local n = 0
local i = 0

local start = 0

function init(args)
   local mode, file, threads = args[1], args[2], tonumber(args[3] or "1")
   start = math.floor(tonumber(args[4] or "0") / threads)
   local me = id or 0
   if mode == "health" then
      n = 1
      reqs[1] = wrk.format("GET", "/health")
      return
   end
   local line_no = 0
   for line in io.lines(file) do
      if line_no % threads == me then
         local ak, sk = line:match("^(%S+) (%S+)$")
         n = n + 1
         if mode == "whoami" then
            reqs[n] = wrk.format("GET", "/whoami", { ["X-Api-Key"] = ak, ["X-Api-Secret"] = sk })
         else
            local body = '{"api_key":"' .. ak .. '","api_secret":"' .. sk .. '","label":"bench"}'
            reqs[n] = wrk.format("POST", "/credentials", { ["Content-Type"] = "application/json" }, body)
         end
      end
      line_no = line_no + 1
   end
end

function request()
   if start > 0 then
      i = start % n
      start = 0
   end
   i = i + 1
   if i > n then
      i = 1
   end
   return reqs[i]
end

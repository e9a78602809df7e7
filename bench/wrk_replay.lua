-- Replays pre-signed callbacks: thread N sends the lines of reqs-N.txt in order, one
-- connection per thread, so each resident's conversation arrives in order.
-- Optional second argument: a target rate (requests/second over all threads).
-- At the end it prints "wrapped N": callbacks sent a second time because a file ran out
-- (those are duplicates, answered from the dedupe mark: sign more if N is not 0).
local counter = 1
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests, i, sent = {}, 0, 0
  for line in io.lines(args[1] .. "/reqs-" .. id .. ".txt") do
    local path, body = line:match("([^\t]+)\t(.*)")
    requests[#requests + 1] = wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body)
  end
  pause = 0
  if args[2] then pause = 1000 * tonumber(args[3]) / tonumber(args[2]) end
end

function delay()
  return pause
end

function request()
  i = i + 1
  if i > #requests then i = 1 end
  sent = sent + 1
  total = #requests
  return requests[i]
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    local extra = (thread:get("sent") or 0) - (thread:get("total") or 0)
    if extra > 0 then wrapped = wrapped + extra end
  end
  io.write(string.format("wrapped %d\n", wrapped))
end

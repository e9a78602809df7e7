-- Replays pre-signed callbacks: thread N sends the lines of reqs-N.txt in order, one
-- connection per thread, so each resident's conversation arrives in order.
-- Optional second argument: a target rate (requests/second over all threads).
local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  requests, i = {}, 0
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
  return requests[i]
end

-- wrk script for the chat figure of docs/BENCHMARKS.md ("Durable chat turns per second", the
-- same load from a separate process): POST /v1/chat with the key in VOICEBOT_KEY, cycling
-- through the mix of BenchmarkChatHTTP (backend/appliance/bench_test.go): five questions
-- answered by intents and one from the documents, which carries a number unique across the
-- threads so that the response cache never answers it.
--
--   build/bench/chat-wrk.sh            (builds, starts a server, creates the key, runs wrk)
--   VOICEBOT_KEY=vb_... wrk -t2 -c16 -d8s --latency -s build/bench/chat.lua http://127.0.0.1:8750

local key = os.getenv("VOICEBOT_KEY")
if key == nil or key == "" then
  error("set VOICEBOT_KEY to a key with the chat scope (and a high --rate)")
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local questions = {
  "what are the opening hours",
  "how much is a ticket",
  "where are the toilets",
  "do students get a discount",
  "can I hire the museum for a wedding %d", -- knowledge: a new question every time
  "¿cuánto cuesta la entrada?",
}
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
local n = 0

function request()
  n = n + 1
  local i = n % #questions + 1
  local q = questions[i]
  if i == 5 then
    q = string.format(q, n * 64 + (tid or 0))
  end
  return wrk.format("POST", "/v1/chat", headers, '{"text":"' .. q .. '"}')
end

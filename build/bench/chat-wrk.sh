#!/bin/sh
# The chat figure of docs/BENCHMARKS.md measured from a separate process: builds the headless
# binary, starts `voicebot-headless serve` on a fresh store in a temporary folder, creates a chat
# key whose rate limit does not refuse, and runs wrk with build/bench/chat.lua against it.
#
#   build/bench/chat-wrk.sh [wrk options]     (default: -t2 -c16 -d8s --latency)
#
# Needs wrk (Debian: apt-get install wrk) and curl.
set -eu
cd "$(dirname "$0")/../.."
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install $tool)" >&2; exit 1; }
done
bin=build/bin/voicebot-headless
CGO_ENABLED=0 go build -trimpath -o "$bin" .
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
dirs="--data-dir $tmp/data --config-dir $tmp/config"
addr=127.0.0.1:${VOICEBOT_WRK_PORT:-8759}
key=$("$bin" keys create --name wrk --scopes chat --rate 1000000/s $dirs)
"$bin" serve $dirs --listen "$addr" >"$tmp/serve.log" 2>&1 &
pid=$!
i=0
until curl -fs "http://$addr/healthz" >/dev/null; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || { echo "the server did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ $# -gt 0 ] || set -- -t2 -c16 -d8s --latency
VOICEBOT_KEY=$key wrk "$@" -s build/bench/chat.lua "http://$addr"

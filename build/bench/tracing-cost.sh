#!/bin/bash
# tracing-cost.sh OLD_TEST NEW_TEST [ROUNDS] [TURNS]: the cost of tracing (docs/BENCHMARKS.md,
# "Tracing and metrics: what they cost"). OLD_TEST and NEW_TEST are test binaries of
# ./backend/appliance (go test -c) built from two trees, OLD_DIR and NEW_DIR their package
# folders (default: this tree's). Each round runs, in turn, the old build's BenchmarkChatHTTP, the
# new build's BenchmarkChatHTTP (tracing off) and BenchmarkChatHTTPTraced (tracing on, spans to
# an OTLP receiver on loopback), TURNS turns each; compare them by round (the machine's load
# moves between rounds more than within one).
set -euo pipefail
old=$1 new=$2 rounds=${3:-6} turns=${4:-5000}
here=$(cd "$(dirname "$0")/../../backend/appliance" && pwd)
old_dir=${OLD_DIR:-$here} new_dir=${NEW_DIR:-$here}
for r in $(seq 1 "$rounds"); do
  for v in old new traced; do
    case $v in
      old) (cd "$old_dir" && "$old" -test.run '^$' -test.bench 'BenchmarkChatHTTP$' -test.benchtime "${turns}x") ;;
      new) (cd "$new_dir" && "$new" -test.run '^$' -test.bench 'BenchmarkChatHTTP$' -test.benchtime "${turns}x") ;;
      traced) (cd "$new_dir" && "$new" -test.run '^$' -test.bench 'BenchmarkChatHTTPTraced$' -test.benchtime "${turns}x") ;;
    esac | grep '^Benchmark' | sed "s/^/round $r $v /"
  done
done

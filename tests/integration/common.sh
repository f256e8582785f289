# What the whole-binary test scripts share; source it after `set -u`:
#   $tmp            a temporary folder, removed on exit with the serve started below killed
#   fail MESSAGE    prints FAIL and the tails of $tmp/*.out and $tmp/*.err, exits 1
#   wait_for S CMD  polls CMD every 0.1 s until it succeeds (0) or S seconds pass (1)
#   start_serve BIN ARGS...  `BIN serve ARGS` in the background, output in $tmp/serve.{out,err},
#                   its pid in $pid; returns once it printed its configuration, fails if it
#                   exits or takes over 10 s
# (tests/integration/sip/lib.sh is the richer kit of the SIP edge tests.)
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2> /dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*.out "$tmp"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
  exit 1
}

wait_for() {
  local tries=$(($1 * 10))
  shift
  while [ "$tries" -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}

start_serve() {
  local bin=$1
  shift
  "$bin" serve "$@" > "$tmp/serve.out" 2> "$tmp/serve.err" &
  pid=$!
  local tries=100
  until grep -q "^# active parts" "$tmp/serve.out"; do
    kill -0 "$pid" 2> /dev/null || fail "serve exited at start"
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || fail "serve printed no configuration within 10 s"
    sleep 0.1
  done
}

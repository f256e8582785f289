# Shared by the SIP edge integration tests (sourced). Starts `switchboard serve` on loopback
# ports the OS chooses, runs SIPp and siptool.py against it, and stops every process it
# started, by pid, when the test exits.
#   source lib.sh BINARY
#   start_server --set sip.listen=udp:127.0.0.1:0 ...   # sets SRV_UDP, SRV_TCP, ... and SRV_PID
set -u
SB_BIN=${SB_BIN:-${1:?usage: source lib.sh BINARY}}
HERE_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIPP_DIR=$HERE_LIB/sipp
SIPTOOL="python3 $HERE_LIB/siptool.py"
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$WORK"/*.err "$WORK"/*.out "$WORK"/*errors.log; do
    [ -s "$f" ] && { echo "--- $f"; tail -40 "$f"; }
  done
  exit 1
}

need() {
  command -v "$1" > /dev/null || { echo "SKIP: $1 is not installed (scripts/install-deps.sh)"; exit 77; }
}

free_udp_port() {
  python3 -c "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('127.0.0.1',0));print(s.getsockname()[1])"
}

# start_server NAME [serve args...]: data in $WORK/NAME; waits for the listening lines.
start_server() {
  local name=$1
  shift
  mkdir -p -m 0700 "$WORK/$name"  # a data_dir: owner only, or serve refuses it
  "$SB_BIN" serve --set data_dir="$WORK/$name" --set log.level=info "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" &
  SRV_PID=$!
  PIDS+=("$SRV_PID")
  local tries=100
  while [ $tries -gt 0 ] && ! grep -q "^# active parts" "$WORK/$name.out"; do
    kill -0 "$SRV_PID" 2> /dev/null || fail "server $name exited"
    sleep 0.1
    tries=$((tries - 1))
  done
  [ $tries -gt 0 ] || fail "server $name did not start"
  SRV_UDP=$(sed -n 's/^# sip listening: udp:\(.*\)$/\1/p' "$WORK/$name.out" | head -1)
  SRV_TCP=$(sed -n 's/^# sip listening: tcp:\(.*\)$/\1/p' "$WORK/$name.out" | head -1)
  SRV_TLS=$(sed -n 's/^# sip listening: tls:\(.*\)$/\1/p' "$WORK/$name.out" | head -1)
  SRV_WS=$(sed -n 's/^# sip listening: ws:\(.*\)$/\1/p' "$WORK/$name.out" | head -1)
  SRV_WSS=$(sed -n 's/^# sip listening: wss:\(.*\)$/\1/p' "$WORK/$name.out" | head -1)
}

stop_server() {
  kill -TERM "$SRV_PID" 2> /dev/null
  wait "$SRV_PID" 2> /dev/null
}

admin() {
  local name=$1
  shift
  "$SB_BIN" admin --set data_dir="$WORK/$name" "$@" > /dev/null || fail "admin $*"
}

# sipp_run LABEL ARGS...: one bounded SIPp run (its own -timeout), logs in $WORK/LABEL.*
sipp_run() {
  local label=$1
  shift
  local port=()
  [[ " $* " == *" -p "* ]] || port=(-p "$(free_udp_port)")
  sipp -nostdin -i 127.0.0.1 "${port[@]}" -timeout 20s -timeout_error -trace_err -error_file "$WORK/$label.errors.log" \
    -trace_msg -message_file "$WORK/$label.msg" "$@" > "$WORK/$label.out" 2>&1
}

# sipp_bg LABEL ARGS...: a SIPp callee in the background; its pid is added to PIDS.
sipp_bg() {
  local label=$1
  shift
  sipp -nostdin -i 127.0.0.1 -timeout 30s -trace_err -error_file "$WORK/$label.errors.log" \
    -trace_msg -message_file "$WORK/$label.msg" "$@" > "$WORK/$label.out" 2>&1 &
  LAST_BG=$!
  PIDS+=("$LAST_BG")
}

# json_get JSON EXPR: a value from siptool's JSON, e.g. json_get "$out" "['steps'][1]['status']"
json_get() {
  python3 -c "import json,sys; print(json.loads(sys.argv[1])$2)" "$1"
}

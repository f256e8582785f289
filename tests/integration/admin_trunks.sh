#!/usr/bin/env bash
# `switchboard admin trunk ...` and `admin route ...` against a fresh SQLite data_dir:
#   - trunk add prints the saved trunk as JSON (defaults round-robin and probe 30; *WEIGHT);
#     adding the same name again replaces gateways and ACL and keeps created_at;
#   - trunk list is by name; route add/list/remove, including the default route (--default
#     and --prefix ''), a prefix re-pointed to another trunk;
#   - removing a trunk takes its routes along; removing what is absent exits 1;
#   - bad input exits 2 with the usage and the problem, and writes nothing; a route to a
#     trunk that does not exist exits 1 with the reason.
# Usage: admin_trunks.sh path/to/switchboard
set -u
bin=${1:?usage: admin_trunks.sh BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/last.out "$tmp"/last.err; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
}

# sb ARGS...: one admin command on the test's data_dir; stdout in $OUT, stderr in $ERR, the
# exit status in $RC.
sb() {
  "$bin" admin --set data_dir="$tmp/data" "$@" > "$tmp/last.out" 2> "$tmp/last.err"
  RC=$?
  OUT=$(cat "$tmp/last.out")
  ERR=$(cat "$tmp/last.err")
}
ok() { sb "$@"; [ "$RC" = 0 ] || fail "admin $* exited $RC"; }

# check JSON PYTHON_EXPR: the expression, over `j` (the parsed JSON), must be true.
check() {
  python3 - "$1" "$2" << 'EOF' || fail "on $1: $2"
import json, sys
j = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}

# bad EXPECTED_RC MENTION ARGS...: the command fails with EXPECTED_RC and stderr names MENTION.
bad() {
  local want=$1 mention=$2
  shift 2
  sb "$@"
  [ "$RC" = "$want" ] || fail "admin $* exited $RC, not $want"
  [ -z "$OUT" ] || fail "admin $* printed on stdout: $OUT"
  grep -qF -- "$mention" "$tmp/last.err" || fail "admin $*: stderr does not mention '$mention'"
  if [ "$want" = 2 ]; then grep -q "^usage: switchboard admin" "$tmp/last.err" || fail "no usage: $*"; fi
}

# --- trunk add / list / replace
ok trunk add --name carrier --algorithm weighted \
  --gateways "udp:192.0.2.10:5060*3, tcp:[2001:db8::1]:5060" --acl "192.0.2.0/24,2001:db8::/32" \
  --probe-interval 15
check "$OUT" 'sorted(j) == ["acl", "algorithm", "created_at", "gateways", "name", "probe_interval"]'
check "$OUT" 'j["name"] == "carrier" and j["algorithm"] == "weighted" and j["probe_interval"] == 15'
check "$OUT" 'j["gateways"] == [{"uri": "udp:192.0.2.10:5060", "weight": 3}, {"uri": "tcp:[2001:db8::1]:5060", "weight": 1}]'
check "$OUT" 'j["acl"] == ["192.0.2.0/24", "2001:db8::/32"] and j["created_at"] > 1600000000'
created=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["created_at"])' "$OUT")
echo "ok: trunk add prints the trunk"

ok trunk add --name beta --gateways "tls:192.0.2.30:5061"
check "$OUT" 'j["algorithm"] == "round-robin" and j["probe_interval"] == 30 and j["acl"] == []'
check "$OUT" 'j["gateways"] == [{"uri": "tls:192.0.2.30:5061", "weight": 1}]'
echo "ok: trunk add defaults"

ok trunk list
check "$OUT" '[t["name"] for t in j] == ["beta", "carrier"] and len(j[1]["gateways"]) == 2'
echo "ok: trunk list by name"

ok trunk add --name carrier --algorithm hash --gateways "udp:192.0.2.20:5080*7"
check "$OUT" 'j["gateways"] == [{"uri": "udp:192.0.2.20:5080", "weight": 7}] and j["acl"] == []'
check "$OUT" "j['algorithm'] == 'hash' and j['created_at'] == $created"
ok trunk list
check "$OUT" 'j[1]["gateways"] == [{"uri": "udp:192.0.2.20:5080", "weight": 7}] and j[1]["acl"] == []'
echo "ok: trunk add again replaces gateways and ACL, keeps created_at"

# --- routes
ok route add --prefix +49 --trunk carrier
check "$OUT" 'sorted(j) == ["created_at", "prefix", "stateless", "trunk"] and j["prefix"] == "+49" and j["trunk"] == "carrier" and j["stateless"] is False'
ok route add --prefix 4930 --trunk beta --stateless
check "$OUT" 'j["stateless"] is True'
ok route add --prefix 4930 --trunk beta --stateless
ok route add --default --trunk beta
check "$OUT" 'j["prefix"] == "" and j["trunk"] == "beta"'
ok route add --prefix '' --trunk carrier  # the default route again, re-pointed
check "$OUT" 'j["prefix"] == "" and j["trunk"] == "carrier"'
ok route list
check "$OUT" '[(r["prefix"], r["trunk"], r["stateless"]) for r in j] == [("", "carrier", False), ("+49", "carrier", False), ("4930", "beta", True)]'
echo "ok: route add (prefix, --default, --prefix '', --stateless) and list by prefix"

bad 1 "nope" route add --prefix +1 --trunk nope
ok route list
check "$OUT" 'len(j) == 3'
echo "ok: a route to an unknown trunk exits 1 with the reason"

# --- bad input: exit 2, the problem named, nothing written
bad 2 "gw.example.com" trunk add --name x --gateways udp:gw.example.com:5060
bad 2 "ws:192.0.2.1:80" trunk add --name x --gateways ws:192.0.2.1:80
bad 2 "udp:192.0.2.1" trunk add --name x --gateways udp:192.0.2.1
bad 2 "weight" trunk add --name x --gateways "udp:192.0.2.1:5060*0"
bad 2 "weight" trunk add --name x --gateways "udp:192.0.2.1:5060*1001"
bad 2 "random" trunk add --name x --algorithm random --gateways udp:192.0.2.1:5060
bad 2 "bad name" trunk add --name "bad name" --gateways udp:192.0.2.1:5060
bad 2 "192.0.2.0/40" trunk add --name x --gateways udp:192.0.2.1:5060 --acl 192.0.2.0/40
bad 2 "no gateways" trunk add --name x --gateways ","
bad 2 "probe-interval" trunk add --name x --gateways udp:192.0.2.1:5060 --probe-interval soon
bad 2 "needs --name and --gateways" trunk add --gateways udp:192.0.2.1:5060
bad 2 "needs --name" trunk remove
bad 2 "49x" route add --prefix 49x --trunk beta
bad 2 "++49" route add --prefix ++49 --trunk beta
bad 2 "--prefix or --default" route add --trunk beta
bad 2 "--prefix or --default" route add --prefix +49 --default --trunk beta
bad 2 "needs --trunk" route add --prefix +49
bad 2 "unknown trunk action" trunk rename
bad 2 "unknown option" trunk list --bogus
ok trunk list
check "$OUT" '[t["name"] for t in j] == ["beta", "carrier"]'
ok route list
check "$OUT" 'len(j) == 3'
echo "ok: bad input exits 2 with the usage and writes nothing"

# --- removal
ok route remove --prefix 4930
check "$OUT" 'j == {"prefix": "4930", "removed": True}'
sb route remove --prefix 4930
[ "$RC" = 1 ] || fail "removing an absent route exited $RC"
check "$OUT" 'j == {"prefix": "4930", "removed": False}'
ok trunk remove --name carrier
check "$OUT" 'j == {"name": "carrier", "removed": True}'
ok route list
check "$OUT" 'j == []'
ok trunk list
check "$OUT" '[t["name"] for t in j] == ["beta"]'
sb trunk remove --name carrier
[ "$RC" = 1 ] || fail "removing an absent trunk exited $RC"
check "$OUT" 'j == {"name": "carrier", "removed": False}'
ok route add --default --trunk beta
ok route remove --default
check "$OUT" 'j == {"prefix": "", "removed": True}'
echo "ok: remove (a trunk takes its routes along; absent -> exit 1)"

echo "PASS"

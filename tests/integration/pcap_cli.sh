#!/usr/bin/env bash
# `switchboard pcap` from the command line, on a reference capture (../shared) when present,
# else on nothing but the error paths:
#   - analyze prints one screen per call and --json a document; --call-id keeps one call;
#   - a capture cut short still gets its report, the byte offset on stderr, exit 2;
#   - a missing file exits 1, bad arguments exit 2;
#   - split writes one capture per call whose own analysis finds exactly that call's SIP and
#     streams; --audio adds a WAV per G.711 stream of the call.
# Usage: pcap_cli.sh BINARY PCAPS_DIR
set -u
bin=${1:?usage: pcap_cli.sh BINARY PCAPS_DIR}
pcaps=${2:?usage: pcap_cli.sh BINARY PCAPS_DIR}
source "$(dirname "$0")/common.sh"

"$bin" pcap analyze "$tmp/none.pcap" > "$tmp/missing.out" 2> "$tmp/missing.err"
[ $? -eq 1 ] || fail "a missing file did not exit 1"
"$bin" pcap analyze > /dev/null 2> "$tmp/usage.err"
[ $? -eq 2 ] || fail "no file did not exit 2"
"$bin" pcap analyze x.pcap --bogus > /dev/null 2> "$tmp/bogus.err"
[ $? -eq 2 ] && grep -q "unknown option '--bogus'" "$tmp/bogus.err" || fail "unknown option"
"$bin" pcap split x.pcap > /dev/null 2>&1
[ $? -eq 2 ] || fail "split without --out did not exit 2"
echo "ok: error paths"

src="$pcaps/heplify_rtp_rtcp_sip.pcap"
if [ ! -f "$src" ]; then
  echo "pcap_cli: $pcaps not found; the capture checks need ../shared/testdata (skipping them)"
  exit 77
fi
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

"$bin" pcap analyze "$src" > "$tmp/text.out" 2> "$tmp/text.err" || fail "analyze (text)"
grep -q "^INVITE 12013223@200.57.7.195" "$tmp/text.out" || fail "the text report has no call line"
grep -q "final 200 OK" "$tmp/text.out" || fail "the text report has no final status"
grep -q "codecs: PCMA" "$tmp/text.out" || fail "the text report has no codec"
"$bin" pcap analyze "$src" --json > "$tmp/all.json" 2> "$tmp/all.err" || fail "analyze --json"
[ "$(json "$tmp/all.json" 'len(d["calls"])')" = 4 ] || fail "not 4 calls"
"$bin" pcap analyze "$src" --json --call-id 12013223@200.57.7.195 > "$tmp/one.json" ||
  fail "analyze --call-id"
[ "$(json "$tmp/one.json" 'len(d["calls"])')" = 1 ] || fail "--call-id kept more than one call"
[ "$(json "$tmp/one.json" 'len(d["rtp_streams"])')" = 2 ] || fail "--call-id: not the 2 streams of the call"
echo "ok: analyze text, json, --call-id"

# Cut short in the middle of a record: report up to there, offset named, exit 2.
size=$(stat -c %s "$src")
head -c $((size / 2)) "$src" > "$tmp/cut.pcap"
"$bin" pcap analyze "$tmp/cut.pcap" --json > "$tmp/cut.json" 2> "$tmp/cut.err"
[ $? -eq 2 ] || fail "a truncated capture did not exit 2"
grep -q "at byte [0-9]" "$tmp/cut.err" || fail "no byte offset on stderr"
[ "$(json "$tmp/cut.json" 'd["error"]["offset"] > 0 and d["frames"] > 1000')" = True ] ||
  fail "the truncated report lacks the error or the frames before it"
echo "ok: truncated capture -> partial report, offset, exit 2"

"$bin" pcap split "$src" --out "$tmp/split" --audio > "$tmp/split.out" 2> "$tmp/split.err" ||
  fail "split"
call="$tmp/split/12013223@200.57.7.195.pcap"
[ -f "$call" ] || fail "no capture for the call"
[ "$(wc -l < "$tmp/split.out")" -ge 5 ] || fail "split listed too few files"
"$bin" pcap analyze "$call" --json > "$tmp/call.json" || fail "analyze of the split capture"
[ "$(json "$tmp/call.json" 'len(d["calls"])')" = 1 ] || fail "the split capture holds other calls"
[ "$(json "$tmp/call.json" 'len(d["calls"][0]["messages"])')" = \
  "$(json "$tmp/one.json" 'len(d["calls"][0]["messages"])')" ] || fail "split lost SIP messages"
[ "$(json "$tmp/call.json" 'sorted(s["packets"] for s in d["rtp_streams"])')" = \
  "$(json "$tmp/one.json" 'sorted(s["packets"] for s in d["rtp_streams"])')" ] ||
  fail "split lost RTP packets"
wavs=$(ls "$tmp/split"/*.wav 2> /dev/null | wc -l)
[ "$wavs" = 2 ] || fail "expected 2 WAV files, got $wavs"
for w in "$tmp/split"/*.wav; do
  [ "$(head -c 4 "$w")" = RIFF ] && [ "$(stat -c %s "$w")" -gt 100000 ] || fail "bad WAV $w"
done
echo "ok: split, one capture per call with its SIP and RTP, WAV per G.711 stream"

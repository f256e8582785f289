#!/usr/bin/env bash
# Interop with a real softphone: two headless baresip instances (alice, bob) register with
# `switchboard serve` under its default digest configuration, alice calls bob through the
# edge, each side sends its own tone (alice 440 Hz, bob 1000 Hz), alice hangs up. Done once
# over UDP and once over TCP. Asserted: REGISTER challenged then answered 200, the call
# established on both sides, the other side's tone in the audio each side received
# (recorded by baresip's sndfile filter, checked in 50 ms blocks with a Goertzel filter),
# BYE answered 200 and the call over on both sides, the un-REGISTER of /quit answered 200.
# baresip is driven through its `cons` module (commands as UDP datagrams); every wait is
# bounded, and baresip runs with -t as a last resort.
# Usage: sip_edge_baresip.sh BINARY   (KEEP_WORK=1 keeps the logs in $WORK)
source "$(dirname "$0")/sip/lib.sh" "$1"
need baresip
need python3

mkdir -p -m 0700 "$WORK/a"
admin a sip-user add --domain example.com --user alice --password alicepw
admin a sip-user add --domain example.com --user bob --password bobpw
# The DEFAULT digest configuration: the point is that common phones register with it.
start_server a --set sip.listen=udp:127.0.0.1:0,tcp:127.0.0.1:0
[[ -n $SRV_UDP && -n $SRV_TCP ]] || fail "the server did not report its UDP and TCP ports"

# A loopback port free for both UDP and TCP (baresip's sip_listen and cons_listen take both).
free_port() {
  python3 -c "
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.1', 0))
    t = socket.socket()
    try:
        t.bind(('127.0.0.1', u.getsockname()[1]))
        print(u.getsockname()[1])
        break
    except OSError:
        pass"
}

# wait_for FILE REGEX SECONDS WHAT: until `grep -E REGEX FILE` matches, or fail.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2> /dev/null; do
    [ $SECONDS -lt $deadline ] || fail "$4 (no /$2/ in $(basename "$1") within $3 s)"
    sleep 0.1
  done
}

# sip_answered LOG METHOD STATUS: how many STATUS responses to METHOD LOG (a baresip -s
# trace) holds. The trace prints each message, sent or received, as a block that starts
# with a line "#" (in colour); a response's CSeq names its method. Lines end in CRLF.
sip_answered() {
  awk -v m="$2" -v s="$3" '
    { sub(/\r$/, "") }
    /^(.\[[0-9;]*m)?#$/ { st = "" }
    /^SIP\/2\.0 [0-9][0-9][0-9]/ { st = $2 }
    $1 == "CSeq:" && $3 == m && st == s { n++ }
    END { print n + 0 }' "$1"
}

# start_phone LABEL USER PASSWORD TRANSPORT SERVER TONE_HZ: a baresip with its config in
# $WORK/LABEL and its log (SIP trace included) in $WORK/LABEL.out; sets PHONE_PID and
# PHONE_CONS (its console port).
start_phone() {
  local label=$1 user=$2 pass=$3 tr=$4 srv=$5 tone=$6
  local dir=$WORK/$label sip_port cons_port
  sip_port=$(free_port)
  cons_port=$(free_port)
  mkdir -p "$dir/snd"
  cat > "$dir/config" << EOF
poll_method		epoll
sip_listen		127.0.0.1:$sip_port
net_interface		127.0.0.1
call_local_timeout	15
call_max_calls		1
audio_source		ausine,$tone
audio_player		aubridge,$label
audio_alert		aubridge,$label
ausrc_srate		48000
ausrc_channels		2
statmode_default	off
module_path		/usr/lib/baresip/modules
module			cons.so
module			g711.so
module			sndfile.so
module			ausine.so
module			aubridge.so
module_tmp		account.so
module_app		menu.so
cons_listen		127.0.0.1:$cons_port
snd_path		$dir/snd
EOF
  printf '<sip:%s@example.com;transport=%s>;auth_pass=%s;outbound="sip:%s;transport=%s";%s\n' \
    "$user" "$tr" "$pass" "$srv" "$tr" "regint=60;answermode=auto;audio_codecs=pcmu" \
    > "$dir/accounts"
  baresip -4 -s -v -t 45 -f "$dir" < /dev/null > "$WORK/$label.out" 2>&1 &
  PHONE_PID=$!
  PHONE_CONS=$cons_port
  PIDS+=("$PHONE_PID")
}

# cmd PORT COMMAND: one console command to a baresip (cons reads a datagram of keystrokes).
cmd() {
  printf '%s\n' "$2" > "/dev/udp/127.0.0.1/$1" || fail "cannot send '$2' to the console on $1"
}

# stop_phone PID CONS NAME: /quit (which un-REGISTERs first), then wait for the process.
stop_phone() {
  cmd "$2" /quit
  local deadline=$((SECONDS + 10))
  while kill -0 "$1" 2> /dev/null; do
    [ $SECONDS -lt $deadline ] || fail "$3's baresip did not quit within 10 s"
    sleep 0.1
  done
  wait "$1" 2> /dev/null
}

# check_tone WAV WANT_HZ OTHER_HZ WHAT: at least 1 s of 50 ms blocks of WAV are WANT_HZ
# (Goertzel power at WANT_HZ > 80% of the block's energy, at OTHER_HZ < 10%).
check_tone() {
  local out
  out=$(python3 - "$1" "$2" "$3" << 'EOF'
import math, sys, wave

def share(x, f, rate):  # the part of the block's energy at frequency f (1.0 for a pure tone)
    k = 2 * math.cos(2 * math.pi * f / rate)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + k * s1 - s2, s1
    energy = sum(v * v for v in x)
    return 2 * (s1 * s1 + s2 * s2 - k * s1 * s2) / (len(x) * energy) if energy else 0.0

path, want, other = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
with wave.open(path) as w:
    if w.getsampwidth() != 2 or w.getnchannels() != 1:
        sys.exit(f"{path}: not 16-bit mono")
    rate, raw = w.getframerate(), w.readframes(w.getnframes())
x = [int.from_bytes(raw[i:i + 2], "little", signed=True) for i in range(0, len(raw), 2)]
blk, loud, tone = rate // 20, 0, 0
for i in range(0, len(x) - blk + 1, blk):
    b = x[i:i + blk]
    if math.sqrt(sum(v * v for v in b) / blk) < 300:
        continue
    loud += 1
    tone += share(b, want, rate) > 0.8 and share(b, other, rate) < 0.1
print(f"{len(x) / rate:.2f} s at {rate} Hz, {loud} loud 50 ms blocks, {tone} of them {want:g} Hz")
sys.exit(0 if tone >= 20 else 1)
EOF
  ) || fail "$4: $out"
  echo "   $4: $out"
}

# call_over TRANSPORT SERVER_ADDR: the whole scenario over one transport.
call_over() {
  local tr=$1 srv=$2 TR=${1^^}
  local a=$WORK/alice-$tr.out b=$WORK/bob-$tr.out
  local alice_pid alice_cons bob_pid bob_cons
  start_phone "alice-$tr" alice alicepw "$tr" "$srv" 440
  alice_pid=$PHONE_PID alice_cons=$PHONE_CONS
  start_phone "bob-$tr" bob bobpw "$tr" "$srv" 1000
  bob_pid=$PHONE_PID bob_cons=$PHONE_CONS

  # baresip's line for a registration: "alice@example.com: {0/UDP/v4} 200 OK (...) [1 binding]"
  wait_for "$a" "^alice@example.com: \\{[0-9]+/$TR/v4\\} 200 OK" 10 "$tr: alice did not register"
  wait_for "$b" "^bob@example.com: \\{[0-9]+/$TR/v4\\} 200 OK" 10 "$tr: bob did not register"
  [ "$(sip_answered "$a" REGISTER 401)" -ge 1 ] || fail "$tr: alice's REGISTER was not challenged"
  [ "$(sip_answered "$a" REGISTER 200)" -ge 1 ] || fail "$tr: no 200 to alice's REGISTER"
  [ "$(sip_answered "$b" REGISTER 200)" -ge 1 ] || fail "$tr: no 200 to bob's REGISTER"
  grep -q "^$TR 127.0.0.1:[0-9]* -> $srv" "$a" || fail "$tr: alice did not send to $srv over $TR"
  grep -q "^$TR 127.0.0.1:[0-9]* -> $srv" "$b" || fail "$tr: bob did not send to $srv over $TR"
  echo "ok: $tr: alice and bob registered (REGISTER, 401, REGISTER, 200)"

  cmd "$alice_cons" "/dial sip:bob@example.com"
  wait_for "$a" "Call established: sip:bob@example.com" 10 "$tr: alice's call was not established"
  wait_for "$b" "Call established: sip:alice@example.com" 5 "$tr: bob's call was not established"
  [ "$(sip_answered "$a" INVITE 407)" -ge 1 ] || fail "$tr: alice's INVITE was not challenged"
  [ "$(sip_answered "$a" INVITE 200)" -ge 1 ] || fail "$tr: no 200 to alice's INVITE"
  grep -q "^INVITE sip:bob[^ ]*@127.0.0.1:" "$b" || fail "$tr: bob got no INVITE to his Contact"
  grep -q "^$TR $srv -> 127.0.0.1:" "$b" || fail "$tr: bob got nothing from the edge over $TR"
  grep -q "^Record-Route: <sip:${srv}[;>]" "$b" || fail "$tr: the edge did not Record-Route"
  echo "ok: $tr: call alice -> bob established (INVITE, 407, INVITE, 200, ACK)"

  sleep 2  # tones both ways
  cmd "$alice_cons" /hangup
  wait_for "$a" "Call with sip:bob@example.com[^ ]* terminated" 5 "$tr: /hangup did not end the call"
  wait_for "$b" "Call with sip:alice@example.com[^ ]* terminated" 5 "$tr: bob's call did not end"
  local deadline=$((SECONDS + 5))
  until [ "$(sip_answered "$a" BYE 200)" -ge 1 ]; do
    [ $SECONDS -lt $deadline ] || fail "$tr: alice's BYE was not answered 200 within 5 s"
    sleep 0.1
  done
  grep -q "^BYE sip:bob[^ ]*@127.0.0.1:" "$b" || fail "$tr: the BYE did not reach bob"
  echo "ok: $tr: alice hung up, BYE 200, the call is over on both sides"

  # A call's recordings are complete once it is gone: bob hears 440 Hz, alice 1000 Hz.
  local a_wav=("$WORK/alice-$tr"/snd/dump-*-dec.wav) b_wav=("$WORK/bob-$tr"/snd/dump-*-dec.wav)
  [[ ${#a_wav[@]} -eq 1 && -f ${a_wav[0]} ]] || fail "$tr: alice did not record one call"
  [[ ${#b_wav[@]} -eq 1 && -f ${b_wav[0]} ]] || fail "$tr: bob did not record one call"
  check_tone "${a_wav[0]}" 1000 440 "$tr: alice hears bob"
  check_tone "${b_wav[0]}" 440 1000 "$tr: bob hears alice"
  echo "ok: $tr: audio both ways"

  # /quit un-registers (Contact ...;expires=0) and the registrar answers 200 again.
  local ra rb
  ra=$(sip_answered "$a" REGISTER 200)
  rb=$(sip_answered "$b" REGISTER 200)
  stop_phone "$alice_pid" "$alice_cons" alice
  stop_phone "$bob_pid" "$bob_cons" bob
  grep -q "^Contact: .*;expires=0" "$a" || fail "$tr: alice sent no un-REGISTER"
  grep -q "^Contact: .*;expires=0" "$b" || fail "$tr: bob sent no un-REGISTER"
  [ "$(sip_answered "$a" REGISTER 200)" -gt "$ra" ] || fail "$tr: alice's un-REGISTER got no 200"
  [ "$(sip_answered "$b" REGISTER 200)" -gt "$rb" ] || fail "$tr: bob's un-REGISTER got no 200"
  echo "ok: $tr: both phones un-registered (200) and quit"
}

call_over udp "$SRV_UDP"
call_over tcp "$SRV_TCP"

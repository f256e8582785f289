#!/usr/bin/env bash
# `switchboard sip lint` over the 49 RFC 4475 messages: every line must carry the verdict
# of the corpus README, the exit status must be 1 (some are invalid), and a run over the
# valid ones alone must exit 0. Usage: sip_lint_rfc4475.sh BINARY RFC4475_DIR
set -u
bin=$1
dir=$2
if [ ! -d "$dir" ]; then
  echo "SKIP: shared testdata absent ($dir)"
  exit 77
fi

declare -A want=(
  [wsinv]=valid [intmeth]=valid [esc01]=valid [escnull]=valid [esc02]=valid [lwsdisp]=valid
  [longreq]=valid [dblreq]=valid [semiuri]=valid [transports]=valid [mpart01]=valid
  [unreason]=valid [noreason]=valid [badinv01]=400 [clerr]=400 [ncl]=400 [scalar02]=400
  [scalarlg]=drop [quotbal]=400 [ltgtruri]=400 [lwsruri]=400 [lwsstart]=400 [trws]=400
  [escruri]=400 [baddate]=400 [regbadct]=400 [badaspec]=400 [baddn]=400 [badvers]=505
  [mismatch01]=400 [mismatch02]=400 [bigcode]=drop [badbranch]=valid [insuf]=400
  [unkscm]=valid [novelsc]=valid [unksm2]=valid [bext01]=valid [invut]=valid
  [regaut01]=valid [multi01]=400 [mcl01]=400 [bcast]=valid [zeromf]=valid [cparam01]=valid
  [cparam02]=valid [regescrt]=valid [sdp01]=valid [inv2543]=valid
)

out=$("$bin" sip lint "$dir"/*.dat)
rc=$?
fail=0
if [ "$rc" -ne 1 ]; then echo "FAIL: exit status $rc, want 1"; fail=1; fi
lines=$(printf '%s\n' "$out" | wc -l)
if [ "$lines" -ne 49 ]; then echo "FAIL: $lines lines, want 49"; fail=1; fi
checked=0
while read -r file verdict code _; do
  name=$(basename "$file" .dat)
  expected=${want[$name]:-missing}
  if [ "$expected" = valid ]; then
    got=$verdict
  else
    got=$code
    [ "$verdict" = invalid ] || got="$verdict"
  fi
  if [ "$got" != "$expected" ]; then
    echo "FAIL: $name: got '$verdict $code', want $expected"
    fail=1
  fi
  checked=$((checked + 1))
done <<< "$out"

valid_files=()
for name in "${!want[@]}"; do [ "${want[$name]}" = valid ] && valid_files+=("$dir/$name.dat"); done
"$bin" sip lint "${valid_files[@]}" > /dev/null
rc_valid=$?
if [ "$rc_valid" -ne 0 ]; then echo "FAIL: lint of the valid files exited $rc_valid"; fail=1; fi

"$bin" sip lint /nonexistent/file.dat > /dev/null 2>&1
if [ $? -ne 1 ]; then echo "FAIL: an unreadable file must exit 1"; fail=1; fi

if [ $fail -eq 0 ]; then
  echo "sip lint: $checked of 49 verdicts as expected; ${#valid_files[@]} valid files exit 0"
fi
exit $fail

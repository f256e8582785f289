#!/usr/bin/env bash
# Runs the libFuzzer targets for a bounded time:
#   fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]   (all targets when none is named)
# Seeds: fuzz/corpus/<target> (ours) plus the RFC 4475 messages from ../shared when present.
# New inputs go to BUILD_DIR/corpus/<target>; crashers to BUILD_DIR/artifacts/<target>/ —
# copy each one into fuzz/regressions/<target>/ so the unit tests replay it for ever.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
shared="$here/../../shared/testdata/sip/rfc4475"
shift 2 || true
status=0
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for exe in "$build"/fuzz/*_fuzz; do targets+=("$(basename "$exe" _fuzz)"); done
fi
for name in "${targets[@]}"; do
  exe="$build/fuzz/${name}_fuzz"
  work="$build/corpus/$name"
  art="$build/artifacts/$name"
  mkdir -p "$work" "$art"
  seeds=("$here/corpus/$name")
  [ -d "$here/regressions/$name" ] && seeds+=("$here/regressions/$name")
  if [ "$name" = sip ] && [ -d "$shared" ]; then seeds+=("$shared"); fi
  echo "== fuzzing $name for ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$exe" -max_total_time="$seconds" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$art/" -print_final_stats=1 "$work" "${seeds[@]}" \
      > "$build/$name.log" 2>&1; then
    echo "!! $name failed; see $build/$name.log and $art/"
    status=1
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|Done [0-9]+ runs" "$build/$name.log" || true
done
exit $status

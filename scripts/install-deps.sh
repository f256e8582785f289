#!/usr/bin/env bash
# The one place that lists the Debian packages Switchboard needs to build, test, fuzz and
# benchmark. Installs only what is missing, so a second run costs a dpkg query and nothing
# else. Run as root on Debian 12 (make run / make test call it).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config g++ clang clang-format
  libclang-rt-14-dev           # libFuzzer and the sanitizer runtimes for clang
  # libraries
  libboost-dev                 # Boost.Container (small_vector); Asio/Beast later
  libssl-dev                   # digest hashes (MD5, SHA-256); TLS later
  libyaml-cpp-dev              # the YAML configuration file
  libsqlite3-dev               # the embedded store (default)
  libpq-dev                    # the PostgreSQL store
  nlohmann-json3-dev           # JSON for the admin commands and the REST API
  libspandsp-dev               # in-band DTMF detection (src/media)
  libpugixml-dev               # TwiML documents (src/messaging, voice later)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  libosip2-dev                 # the reference SIP parser in bench/
  postgresql                   # a throwaway server for the store tests (started by the test)
  sip-tester                   # SIPp, the SIP peer of the integration tests
  baresip                      # a real softphone for the SIP edge's interop test
  iproute2 procps              # ss, ps: free ports and process checks in test scripts
  python3                      # bench/report.py
  curl openssl                 # HTTPS and keep-alive checks of the API (certificates made there)
)

# `install-deps.sh --bench` adds what only the side-by-side benchmarks need (make test
# never installs these).
BENCH_PACKAGES=(
  kamailio kamailio-sqlite-modules   # the reference SIP server of bench/edge
  sqlite3                            # its credentials table
  wrk                                # the HTTP load generator of bench/api
  tshark                             # the reference capture analyzer of bench/pcap
)
if [ "${1:-}" = "--bench" ]; then
  PACKAGES+=("${BENCH_PACKAGES[@]}")
fi

# Node.js and npm run the official twilio library against the REST API in tests. A machine
# that already has both (e.g. from NodeSource, whose nodejs conflicts with Debian's npm) keeps
# them; otherwise Debian's come in.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

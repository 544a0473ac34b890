#!/usr/bin/env bash
# Installs what the tests need, only if missing (Debian/Ubuntu). Safe to run repeatedly.
set -euo pipefail
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
# The answers are read whole before matching: under pipefail, `apt-cache ... | grep -q` fails
# whenever grep stops reading early and apt-cache dies of SIGPIPE, which its longer answers
# (several versions) make likely: a known package then looked unknown.
have_pkg() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *'install ok installed'* ]]; }
apt_knows() { [[ $(apt-cache policy "$1" 2>/dev/null) =~ Candidate:\ [0-9] ]]; }
# The sanitizer and libFuzzer runtimes: their package is named after clang's major version
# (libclang-rt-N-dev), so ask the installed clang which one; without clang, the unversioned
# libclang-rt-dev follows the distribution's default clang installed with it. On releases
# that know neither, the runtimes ship in libclang-common-N-dev, which clang depends on.
clang_runtime() {
  local major
  if have_cmd clang++; then
    major=$(clang++ -dumpversion 2>/dev/null | cut -d. -f1)
    if [ -n "$major" ] && apt_knows "libclang-rt-$major-dev"; then
      have_pkg "libclang-rt-$major-dev" || need+=("libclang-rt-$major-dev")
    fi
  elif apt_knows libclang-rt-dev; then
    need+=(libclang-rt-dev)
  fi
}
have_cmd g++        || need+=(g++)
have_cmd make       || need+=(make)
have_pkg doctest-dev|| need+=(doctest-dev)
have_cmd curl       || need+=(curl)
have_cmd ip         || need+=(iproute2)
have_cmd ping       || need+=(iputils-ping)
have_cmd nc         || need+=(netcat-openbsd)
have_cmd ab         || need+=(apache2-utils)
have_cmd tshark     || need+=(tshark)
have_cmd python3    || need+=(python3)   # JSON checks, the labs runner, the docs check, test-get.sh
have_cmd xmllint    || need+=(libxml2-utils)
have_cmd nft        || need+=(nftables)
have_cmd ethtool    || need+=(ethtool)
# apt-cache knows no package before the first apt-get update on a fresh machine (it still shows
# installed ones, such as make, as candidates: only the package lists tell).
have_lists() { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; }
if [ "$(id -u)" -eq 0 ] && ! have_lists; then apt-get update -qq; fi
clang_runtime
# first_known NAME...: the first package this release's apt knows (names differ between Debian
# and Ubuntu, and between releases); none when it knows none of them.
first_known() {
  local name
  for name in "$@"; do apt_knows "$name" && { echo "$name"; return 0; }; done
  return 0  # none known: an empty answer, not a failure (set -e would end the set-up here)
}
# want NAME...: add the first known of these packages, or say that none is known here.
want() {
  local name; name=$(first_known "$@")
  if [ -n "$name" ]; then need+=("$name"); else echo "setup: no package $* on this release" >&2; fi
}
have_cmd clang++    || need+=(clang)
have_cmd nginx      || want nginx-light nginx   # the benchmark's reference server
have_cmd wrk        || need+=(wrk)
# perf, for the benchmark's profiles only (`sudo BENCH_PROFILE=1 make bench`): make test never
# profiles, so its set-up does not install it.
if [ "${BENCH_PROFILE:-0}" = 1 ]; then have_cmd perf || want linux-perf "linux-tools-$(uname -r)"; fi
# The headless browser of test-http-chromium.sh is a Debian package, but on Ubuntu only a
# wrapper that installs a snap, which can fail where snapd cannot run (a container): it is
# installed on its own, and if that fails the browser test reports itself skipped.
browser=()
if ! have_cmd chromium && ! have_cmd chromium-browser; then
  browser=("$(first_known chromium chromium-browser)")
  if [ -z "${browser[0]}" ]; then
    browser=()
    echo "setup: no chromium package on this release; the headless browser test will be skipped" >&2
  fi
fi
if [ ${#need[@]} -gt 0 ] || [ ${#browser[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${need[*]} ${browser[*]}; run as root (sudo make test) so they can be" \
      "installed" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]} ${browser[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer once, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; fi
  # Bounded: where snapd runs but its store cannot be reached, Ubuntu's wrapper retries for long.
  if [ ${#browser[@]} -gt 0 ] &&
    ! timeout 600 apt-get install -y -qq --no-install-recommends "${browser[@]}" >/dev/null; then
    echo "setup: ${browser[*]} could not be installed; the headless browser test will be skipped" >&2
  fi
  # Debian starts an installed nginx on port 80 of the machine's own namespace; the benchmark
  # runs its own inside a namespace, so stop the system one (where systemd runs at all).
  if printf '%s\n' "${need[@]}" | grep -qxE 'nginx(-light)?' && command -v systemctl >/dev/null; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
fi

#!/usr/bin/env bash
# The system packages the test suite needs beyond Python: headless Chromium (the browser tests
# drive /usr/bin/chromium), a CJK font (the pages and screenshots show Traditional Chinese) and
# Virtuoso (the remote backend is tested over it as well as over `oxigraph serve`).
# Run by `make test` before anything else, so that a fresh machine either gets them (root with
# apt-get, as .ci/run does) or stops at once with one line saying what to install, instead of
# failing half-way through the suite.
set -euo pipefail

missing=()
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || missing+=(chromium)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh-tw family 2>/dev/null)" ]; then
  missing+=(fonts-noto-cjk)
fi
VIRTUOSO=${VIRTUOSO:-virtuoso-t}
command -v "$VIRTUOSO" >/dev/null 2>&1 || missing+=(virtuoso-opensource-7-bin)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get (needed by the browser and remote-store tests)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "make test needs ${missing[*]}: install with 'sudo apt-get install ${missing[*]}' (Debian/Ubuntu), then run make test again" >&2
exit 1

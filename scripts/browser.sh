#!/usr/bin/env bash
# Make sure the browser the portal's browser tests drive is installed: Debian's chromium at
# /usr/bin/chromium. Installs `chromium chromium-driver` with apt-get when it is missing and
# this runs as root; fails with what to do otherwise. Tools never download a browser of their own.
set -euo pipefail

BROWSER=/usr/bin/chromium

if [[ -x "$BROWSER" ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "error: $BROWSER is missing; install it as root: apt-get install -y chromium chromium-driver" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "error: $BROWSER is missing and there is no apt-get here; install Chromium so that $BROWSER runs it" >&2
  exit 1
fi

echo "installing chromium and chromium-driver with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null

if [[ ! -x "$BROWSER" ]]; then
  echo "error: apt-get installed chromium, but $BROWSER is still missing" >&2
  exit 1
fi

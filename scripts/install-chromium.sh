#!/usr/bin/env bash
# Debian's chromium for the dashboard's browser test (tests/test_dashboard_browser.py).
# Playwright drives it through executable_path=/usr/bin/chromium; never `playwright install`
# (it downloads a browser build, which this network refuses). Without chromium the test skips.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: /usr/bin/chromium is missing; run as root (apt-get install -y chromium) to run the browser test" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || {
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium
}
/usr/bin/chromium --version

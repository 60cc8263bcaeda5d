#!/usr/bin/env bash
# System packages the test suite needs: Debian's Chromium (browser test, driven by Playwright with
# executable_path=/usr/bin/chromium; never `playwright install`) and PostgreSQL (tests/scale). Installed only when missing, and
# only when we can (root with apt-get); otherwise say what to install.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
# PostgreSQL server binaries for tests/scale (conversations/feedback shared by several API workers).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi

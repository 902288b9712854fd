#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (npm run test:browser), which drives it headless with
# playwright-core (no browser download by Playwright). Idempotent; needs root on Debian 12.
# Chromium's WebGPU runs on its bundled SwiftShader here, so no GPU or Vulkan driver is needed for it.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && chromium --version >/dev/null 2>&1; then
  echo "chromium already installed: $(chromium --version)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium.sh: needs root to apt-get install chromium (or set CHROMIUM=/path/to/chromium)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# apt-get update can fail transiently; retry a few times.
for i in 1 2 3; do
  if apt-get update -q; then break; fi
  echo "apt-get update failed (try $i), retrying" >&2
  sleep 5
done
apt-get install -y -q chromium
echo "installed: $(chromium --version)"

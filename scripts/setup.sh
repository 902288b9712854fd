#!/usr/bin/env bash
# Sets up a fresh Debian machine (Node >= 20 already there) to run and test this project:
#   - Mesa's lavapipe Vulkan driver (>= 23, from bookworm-backports on Debian 12), so WebGPU has an
#     adapter without a GPU;
#   - Debian's PyTorch (python3-torch, python3-torchvision), used only by the fixture scripts and the
#     full-size check against PyTorch (set SKIP_TORCH=1 to leave it out);
#   - Debian's redis-server, which the BullMQ queue tests start on a free port of their own;
#   - the npm dependencies (npm ci), then the build (dist/: what `npx resnet50` runs).
# Idempotent; needs root (or passwordless sudo) for the apt steps.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-lavapipe.sh

if [ "${SKIP_TORCH:-0}" != 1 ] && ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "[setup] installing python3-torch python3-torchvision (Debian)" >&2
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
    python3-torch python3-torchvision python3-numpy >/dev/null
fi

# redis-server: the queue tests (test/index-db.test.ts) start their own on 127.0.0.1.
if ! command -v redis-server >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "[setup] installing redis-server (Debian)" >&2
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends redis-server >/dev/null
fi

# onnxruntime-node (a benchmark peer) would fetch CUDA binaries in its install script; its CPU
# binaries ship inside the package, so skip that step on npm versions that run install scripts.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
npm run build

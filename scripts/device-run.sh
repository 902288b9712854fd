#!/usr/bin/env bash
# Runs the benchmark suite on a GPU machine with no Node and no network, from the bundle that
# scripts/device-bundle.sh builds into .device/ (which holds a copy of this file as .device/run.sh),
# in a copy of this working tree:
#   bash .device/run.sh          results in $OUT (default .device/out): bench.json (the suite's report,
#                                peers merged in), log.txt, nvidia-smi.txt; partial results as it goes
# Steps, each under `timeout`, all within BUDGET seconds (default 330); a failed step is logged and the
# next one runs, and the script exits 0:
#   unpack Node, Dawn and ORT-web's WASM; unpack the Vulkan loader and libglvnd (NVIDIA's Vulkan ICD
#   needs libGLdispatch) into /; always use
#   the NVIDIA ICD when its file exists (it is outside the loader's search path, and naming it keeps any
#   CPU driver out of Dawn's choice); the adapter; in the background, the seeded weights, their ONNX
#   export ($PYTHON, default python3) and the peers' CPU reference logits; the suite (kernels with
#   --kernels and a GEMM tile sweep, end to end, per-variant end to end, cold start); the peers (ours,
#   TF.js, ORT-web; ORT-web only if the export worked) at batch 1, 8 and 32; `resnet50 tune` (tune.txt,
#   tables in cache/tuning) and `resnet50 profile` at batch 1 (profile-b1.txt, profile-b1.json).
# SMOKE=1: a small workload that runs in a few minutes on lavapipe, to test the bundle; NVIDIA_ICD
# names another ICD file to test that branch (e.g. lavapipe's, /usr/share/vulkan/icd.d/lvp_icd.json).
set -uo pipefail
cd "$(dirname "$0")/.."
D=.device
OUT=${OUT:-$D/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d)
NODE=$D/bin/node
APP=$D/app/main.js
START=$SECONDS
export PYTHON=${PYTHON:-python3} PYTHONUNBUFFERED=1

if [ "${SMOKE:-}" = 1 ]; then
  BUDGET=${BUDGET:-900}
  SUITE=(--batch 1 --precision f32,f16 --runs 2 --variants gemm:4x1x16x16 --variant-batch 1)
  PEER_BATCHES=(1) PEER_RUNS=1 PEER_TIMEOUT=240
  TUNE=(--batch 1 --precision f32 --runs 1 --size 64) PROFILE=(--batch 1 --runs 1 --size 64)
else
  BUDGET=${BUDGET:-450}
  SUITE=(--kernels --batch 1,8,32 --precision f32,f16 --runs 10 --variant-batch 8
    --variants gemm:4x1x16x16,gemm:8x1x16x16,gemm:4x2x16x16,gemm:8x2x16x8,gemm:4x1x8x32,gemm:4x2x8x16)
  PEER_BATCHES=(1 8 32) PEER_RUNS=10 PEER_TIMEOUT=60
  TUNE=(--batch 1,32 --precision f32,f16 --runs 5) PROFILE=(--batch 1 --runs 5)
fi

# step NAME CAP_S CMD…: runs CMD under timeout min(CAP_S, what is left of BUDGET); logs status and time.
step() {
  local name=$1 cap=$2 left t0=$SECONDS rc
  shift 2
  left=$((BUDGET - (SECONDS - START)))
  [ "$cap" -gt "$left" ] && cap=$left
  if [ "$cap" -lt 10 ]; then
    echo "=== [$name] skipped: budget spent ($((SECONDS - START)) s of $BUDGET)"
    return 124
  fi
  echo "=== [$name] start at $((SECONDS - START)) s (timeout $cap s)"
  timeout -k 10 "$cap" "$@"
  rc=$?
  echo "=== [$name] rc $rc$([ $rc = 124 ] && echo ' (timed out)') in $((SECONDS - t0)) s; total $((SECONDS - START)) s"
  return $rc
}

unxz() { # FILE.xz → FILE
  if command -v xz >/dev/null; then xz -d -c "$1" >"${1%.xz}"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "${1%.xz}"
  fi
}

# Appends the peers report $2 (batch $3) to the suite report $1, or keeps it as a file of its own.
merge_peers() {
  "$NODE" -e '
    const fs = require("fs");
    const [suite, peers, batch, out] = process.argv.slice(1);
    const p = fs.existsSync(peers) ? JSON.parse(fs.readFileSync(peers, "utf8")) : { batch: +batch, error: "no report (timed out or failed, see log.txt)" };
    try {
      const r = JSON.parse(fs.readFileSync(suite, "utf8"));
      r.peers.push(p);
      fs.writeFileSync(suite, JSON.stringify(r, null, 2) + "\n");
    } catch (e) {
      fs.writeFileSync(out, JSON.stringify(p, null, 2) + "\n");
      console.log(`no suite report to merge into (${e.message}); wrote ${out}`);
    }' "$1" "$2" "$3" "$OUT/peers-b$3.json"
}

main() {
  echo "device run $(date -u +%FT%TZ); $(uname -srm); $(ldd --version 2>&1 | head -1); $(nproc) cores; SMOKE=${SMOKE:-0} BUDGET=$BUDGET"
  { nvidia-smi; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv; } \
    >"$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi: not available (see nvidia-smi.txt)"
  head -20 "$OUT/nvidia-smi.txt"

  mkdir -p "$D/bin"
  if ! { unxz "$D/node.xz" && mv "$D/node" "$NODE" && chmod +x "$NODE" \
    && unxz "$D/node_modules/webgpu/dist/linux-x64/dawn.node.xz" \
    && unxz "$D/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm.xz"; }; then
    echo "unpacking failed"
    return
  fi
  echo "unpacked: node $("$NODE" --version) ($((SECONDS - START)) s)"

  # The Vulkan loader and libglvnd (NVIDIA's Vulkan ICD, libGLX_nvidia.so.0, needs libGLdispatch),
  # unpacked over / as the device README advises (both were missing on the H100 image, 2026-11-26).
  # Only where either is missing, so a machine's own packages are never overwritten.
  local deb have
  have=$(ldconfig -p | grep -cE 'libvulkan\.so\.1 |libGLdispatch\.so\.0 ') # (grep -q + pipefail: SIGPIPE)
  if [ "$have" -lt 2 ]; then
    for deb in "$D"/*.deb; do
      if command -v dpkg >/dev/null; then dpkg -x "$deb" /; else (cd "$TMP" && ar x "$deb" && tar -xf data.tar.* -C /); fi
    done
  fi
  ldconfig # the new libraries, and any driver library the cache lacks
  echo "Vulkan loader: $(ldconfig -p | grep 'libvulkan\.so\.1 ' | head -1)"
  local icd=${NVIDIA_ICD:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
  if [ -f "$icd" ]; then
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd # the second for loaders older than 1.3.207
    echo "Vulkan driver: $icd"
  else
    echo "Vulkan driver: the loader's default search ($icd does not exist)"
  fi

  step adapter 60 "$NODE" "$APP" info

  # The ONNX export and the peers' CPU reference logits are CPU work: they run beside the suite's GPU
  # work, and the peers wait for them.
  step artifacts 240 "$NODE" "$APP" artifacts "${PEER_BATCHES[@]}" >"$TMP/artifacts.log" 2>&1 &
  local artifacts=$!

  local cap=$((BUDGET - 120))
  [ "${SMOKE:-}" = 1 ] && cap=$((BUDGET / 2))
  step suite "$cap" "$NODE" "$APP" bench "${SUITE[@]}" --json "$OUT/bench.json"

  wait "$artifacts"
  cat "$TMP/artifacts.log"
  local peers=ours,tfjs,ort-web
  if [ ! -s bench/out/peers/resnet50_seed1.onnx ]; then # onnxFile() of bench/peers/common.ts
    peers=ours,tfjs
    echo "no ONNX export: the peers run without ort-web"
  fi
  for b in "${PEER_BATCHES[@]}"; do
    step "peers, batch $b" $((PEER_TIMEOUT * 3 + 60)) "$NODE" "$APP" peers/run --peers "$peers" --batch "$b" \
      --runs "$PEER_RUNS" --timeout "$PEER_TIMEOUT" --json "$TMP/peers-$b.json"
    merge_peers "$OUT/bench.json" "$TMP/peers-$b.json" "$b"
  done

  # Per-layer tuning (tables in $OUT/cache/tuning, default vs tuned end to end printed), then the
  # per-dispatch profile at batch 1 with the tuned tables and the host-side split.
  RESNET50_CACHE=$OUT/cache step tune 150 "$NODE" "$APP" tune "${TUNE[@]}" >"$OUT/tune.txt" 2>&1
  RESNET50_CACHE=$OUT/cache step profile 60 "$NODE" "$APP" profile "${PROFILE[@]}" --json "$OUT/profile-b1.json" >"$OUT/profile-b1.txt" 2>&1
  tail -3 "$OUT/tune.txt" "$OUT/profile-b1.txt"

  nvidia-smi --query-gpu=name,clocks.sm,power.draw,temperature.gpu --format=csv >>"$OUT/nvidia-smi.txt" 2>&1
  echo "done in $((SECONDS - START)) s; results in $OUT: $(ls "$OUT" | tr '\n' ' ')"
}

main 2>&1 | tee "$OUT/log.txt"
rm -rf "$TMP"
exit 0

#!/usr/bin/env bash
# Builds .device/ (git-ignored): everything the benchmark suite needs on a machine that has a GPU but
# no Node, no node_modules and no network, beside a copy of this working tree. .device/run.sh
# (a copy of scripts/device-run.sh) unpacks it there and runs the suite:
#   node.xz                this machine's Node 20 (needs only glibc ≥ 2.28, libstdc++, libgcc_s)
#   *.deb                  the Vulkan loader (libvulkan1) and libglvnd (libglvnd0, libglx0, libegl1, libgl1,
#                          libopengl0, libgles2): NVIDIA's Vulkan ICD is libGLX_nvidia.so.0, which needs
#                          libGLdispatch; the H100 image has neither (without them: 'Could not get
#                          vkCreateInstance via vk_icdGetInstanceProcAddr'). All unpacked into / there,
#                          as the device README advises.
#   node_modules/webgpu/   Dawn (dist/linux-x64/dawn.node.xz) and its index.js
#   node_modules/onnxruntime-web/   package.json, the WebGPU bundle and its WASM (.xz)
#   app/                   esbuild bundle of bench/device/main.ts: our src, the bench and TF.js, with
#                          webgpu and onnxruntime-web left external (and sharp and onnxruntime-node,
#                          which the bench never loads there); package versions and the git commit
#                          baked in (DEVICE_BUNDLE, see bench/child.ts)
#   run.sh
# Rebuild it right before a device run, so the bundle holds the current sources.
#   bash scripts/device-bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
D=.device
NM=node_modules
rm -rf "$D"
mkdir -p "$D/app" "$D/node_modules/webgpu/dist/linux-x64" "$D/node_modules/onnxruntime-web/dist"

echo "node $(node --version): compressing $(command -v node)"
xz -T2 -9 -c "$(readlink -f "$(command -v node)")" >"$D/node.xz"

(cd "$D" && apt-get -q -o APT::Sandbox::User=root download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 >/dev/null)

cp "$NM/webgpu/package.json" "$NM/webgpu/index.js" "$D/node_modules/webgpu/"
xz -T2 -9 -c "$NM/webgpu/dist/linux-x64/dawn.node" >"$D/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

# What bench/peers/ort-web.ts loads: the 'onnxruntime-web/webgpu' export and the asyncify WASM.
ORT=$(node -p "require('./$NM/onnxruntime-web/package.json').exports['./webgpu'].import.default")
cp "$NM/onnxruntime-web/package.json" "$D/node_modules/onnxruntime-web/"
cp "$NM/onnxruntime-web/$ORT" "$D/node_modules/onnxruntime-web/$ORT"
xz -T2 -9 -c "$NM/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm" \
  >"$D/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm.xz"

version() { node -p "require('./$NM/$1/package.json').version"; }
COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench && echo '' || echo '+changes')"
DEFINE=$(cat <<EOF
{"versions":{"webgpu":"$(version webgpu)","onnxruntime-web":"$(version onnxruntime-web)","onnxruntime-node":"not in the device bundle",
"@tensorflow/tfjs-core":"$(version @tensorflow/tfjs-core)","@tensorflow/tfjs-backend-webgpu":"$(version @tensorflow/tfjs-backend-webgpu)"},
"built":"commit $COMMIT, $(date -u +%FT%TZ)"}
EOF
)
# ESM chunks: CommonJS dependencies (TF.js, node-fetch) call require() for Node's built-ins, so each
# chunk gets a real one.
"$NM/.bin/esbuild" bench/device/main.ts --bundle --format=esm --platform=node --target=node20 --splitting \
  --outdir="$D/app" --external:webgpu --external:onnxruntime-web --external:onnxruntime-node --external:sharp \
  --define:DEVICE_BUNDLE="$(tr -d '\n' <<<"$DEFINE")" --log-level=warning \
  --banner:js="import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);"

cp scripts/device-run.sh "$D/run.sh"
du -sh "$D"
du -b -s "$D" | awk '{ printf "%.1f MiB\n", $1 / 2^20 }'

#!/usr/bin/env bash
# The GPU benchmark, for a machine with a real GPU (Linux, Debian or Ubuntu,
# NVIDIA or any GPU with a Vulkan driver). It
#   1. installs what it needs: Node's packages (pnpm), the Vulkan loader and
#      Mesa's EGL (apt), and builds the packages;
#   2. reports the WebGPU adapter @dcem/tfjs finds, and what selectBackend()
#      chooses by itself;
#   3. runs the webgpu test run of packages/tfjs (conformance, golden LML and
#      DCEM cases, gradients) on that adapter;
#   4. runs `pnpm bench` on webgpu and, for comparison, on wasm;
#   5. tries @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1; its installer
#      downloads libtensorflow) and, when it loads, benchmarks it too;
#   6. writes everything to one JSON report: bench/results/gpu-<host>.json,
#      or the path given as the first argument.
#
#   bash bench/gpu.sh [report.json]
#
# BENCH_ARGS adds arguments to every `bench/run.mjs` call (for a quick try:
# BENCH_ARGS="--configs lml_small --repeats 3").
#
# Nothing it installs with pnpm is kept: package.json and pnpm-lock.yaml are
# restored at the end. See docs/gpu.md.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
REPORT=${1:-bench/results/gpu-$(hostname).json}
WORK=$(mktemp -d)
# Step 5 adds tfjs-node-gpu with pnpm: keep the two files it changes and put them back at the end.
cp packages/tfjs/package.json "$WORK/package.json.saved" && cp pnpm-lock.yaml "$WORK/pnpm-lock.yaml.saved" || exit 1
restore() {
  if ! cmp -s "$WORK/package.json.saved" packages/tfjs/package.json || ! cmp -s "$WORK/pnpm-lock.yaml.saved" pnpm-lock.yaml; then
    cp "$WORK/package.json.saved" packages/tfjs/package.json && cp "$WORK/pnpm-lock.yaml.saved" pnpm-lock.yaml
    pnpm install --frozen-lockfile >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap restore EXIT
log() { echo "gpu.sh: $*" >&2; }

# 1. Install and build.
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if command -v apt-get >/dev/null 2>&1; then
  # libvulkan1: the Vulkan loader Dawn opens (the GPU driver brings the ICD);
  # libegl-dev, libegl-mesa0, libgl1-mesa-dri: Dawn's OpenGL ES fallback.
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    -o DPkg::Lock::Timeout=300 libvulkan1 libegl-dev libegl-mesa0 libgl1-mesa-dri >/dev/null \
    || log "warning: apt-get install failed; going on with what is installed"
fi
command -v pnpm >/dev/null 2>&1 || npm install -g pnpm@10.34.9 || exit 1
pnpm install --frozen-lockfile >/dev/null || exit 1
pnpm --filter './packages/*' build >/dev/null || exit 1

# 2. The machine and the adapter.
GPU_INFO=null
if command -v nvidia-smi >/dev/null 2>&1; then
  GPU_INFO=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(s.trim().split("\n"))))')
fi
node bench/gpu-adapter.mjs > "$WORK/adapter.json" 2> "$WORK/adapter.err" || log "adapter probe failed: $(tail -3 "$WORK/adapter.err")"
log "adapter: $(cat "$WORK/adapter.json" 2>/dev/null)"

# 3. The webgpu tests (on the GPU adapter when there is one).
rm -f packages/tfjs/reports/vitest.json
(cd packages/tfjs && npx vitest run --project webgpu) > "$WORK/webgpu-tests.log" 2>&1
log "webgpu tests: exit $?"
# The package's vitest config writes its JSON report there.
cp packages/tfjs/reports/vitest.json "$WORK/webgpu-tests.json" 2>/dev/null

# 4. The benchmark on webgpu and wasm.
node bench/run.mjs --backends webgpu ${BENCH_ARGS:-} > "$WORK/bench-webgpu.jsonl" 2> "$WORK/bench-webgpu.err"
log "bench webgpu: exit $?"
node bench/run.mjs --backends wasm ${BENCH_ARGS:-} > "$WORK/bench-wasm.jsonl" 2> "$WORK/bench-wasm.err"
log "bench wasm: exit $?"

# 5. tfjs-node-gpu, where it installs and loads.
: > "$WORK/bench-tensorflow-gpu.jsonl"
echo "not tried: no nvidia-smi" > "$WORK/bench-tensorflow-gpu.err"
if command -v nvidia-smi >/dev/null 2>&1; then
  if pnpm --filter @dcem/tfjs add -D @tensorflow/tfjs-node-gpu@4.22.0 > "$WORK/tfjs-node-gpu-install.log" 2>&1; then
    pnpm --filter @dcem/tfjs build >/dev/null
    node bench/run.mjs --backends tensorflow-gpu ${BENCH_ARGS:-} > "$WORK/bench-tensorflow-gpu.jsonl" 2> "$WORK/bench-tensorflow-gpu.err"
    log "bench tensorflow-gpu: exit $?"
  else
    { echo "pnpm add @tensorflow/tfjs-node-gpu@4.22.0 failed:"; tail -5 "$WORK/tfjs-node-gpu-install.log"; } \
      > "$WORK/bench-tensorflow-gpu.err"
  fi
fi

# 6. One JSON report.
mkdir -p "$(dirname "$REPORT")"
WORK="$WORK" GPU_INFO="$GPU_INFO" REPORT="$REPORT" node --input-type=module -e '
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import os from "node:os";
const w = process.env.WORK;
const read = (f) => (existsSync(join(w, f)) ? readFileSync(join(w, f), "utf8") : "");
const rows = (f) => read(f).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const tail = (f) => read(f).split("\n").filter((l) => l.trim() !== "").slice(-5);
const tests = read("webgpu-tests.json") === "" ? null : JSON.parse(read("webgpu-tests.json"));
const bench = (b) => ({ rows: rows(`bench-${b}.jsonl`), ...(rows(`bench-${b}.jsonl`).length === 0 ? { error: tail(`bench-${b}.err`) } : {}) });
const report = {
  date: new Date().toISOString(),
  machine: { host: os.hostname(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? null, memory_bytes: os.totalmem(), node: process.version, gpus: JSON.parse(process.env.GPU_INFO) },
  adapter: read("adapter.json") === "" ? { error: tail("adapter.err") } : JSON.parse(read("adapter.json")),
  webgpu_tests: tests === null ? { error: tail("webgpu-tests.log") } : { passed: tests.numPassedTests, failed: tests.numFailedTests, pending: tests.numPendingTests, failed_files: tests.numFailedTestSuites, failures: tests.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === "failed").map((a) => a.fullName)) },
  bench: { webgpu: bench("webgpu"), wasm: bench("wasm"), "tensorflow-gpu": bench("tensorflow-gpu") },
};
writeFileSync(process.env.REPORT, JSON.stringify(report, null, 2) + "\n");
console.log(`gpu.sh: report written to ${process.env.REPORT}`);
'

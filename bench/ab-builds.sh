#!/usr/bin/env bash
# Times this build of @dcem/tfjs against another one in one run, the two
# alternating (A B A B …) so that a change of load hits both alike:
#
#   bash bench/ab-builds.sh OTHER_TFJS_DIR ROUNDS [run.mjs arguments…]
#
# OTHER_TFJS_DIR is packages/tfjs of a built checkout of the other version
# (it must hold dist/ and node_modules/@dcem/core). For example, the WebGPU
# time of dcem_quadratic before and after a change, on a software adapter:
#
#   git archive BASE | tar -x -C /tmp/base && (cd /tmp/base && pnpm install --offline && pnpm build)
#   bash bench/ab-builds.sh /tmp/base/packages/tfjs 3 --backends webgpu --configs dcem_quadratic --repeats 5
#
# Prints run.mjs's JSON lines, each with "label": "other" or "this".
set -euo pipefail
cd "$(dirname "$0")/.."
OTHER=$1
ROUNDS=$2
shift 2
for ((i = 1; i <= ROUNDS; i++)); do
  node bench/run.mjs --tfjs-dist "$OTHER" --label other "$@"
  node bench/run.mjs --label this "$@"
done

#!/usr/bin/env bash
# Sets up tunstack and runs the main job: `tunstack demo`, two stacks on an
# in-memory link (no TUN, no root). Extra arguments go to the demo, e.g.
#   bash scripts/demo.sh --loss 0.2 --seed 7
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node ./bin/tunstack.cjs demo "$@"

# Shared by the recipes: install system packages, build the release binary, set $T.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash notebooks-cli/install-deps.sh
swift build -c release --product tianalyze 2>&1 | tail -n 1
T=.build/release/tianalyze
RUNS=${RUNS:-runs}
SEED=${SEED:-1}
TASK=${TASK:-count}

#!/usr/bin/env bash
# fomm4j against PyTorch (reference code) and ONNX Runtime Java (reference graph), interleaved on this
# machine: seconds per animation step of the full-size vox-256 FOMM and TPSMM, the ratios, CPU model and ISA.
# Usage: scripts/compare-peers.sh [THREADS=all cores] [ROUNDS=2] [REPS=5] [WARMUP=20]
#   FOMM4J_PEERS=DIR  the peers' directory (default ../shared/peers; see README "Comparing with the peers")
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
T=${1:-$(nproc)}; R=${2:-2}; N=${3:-5}; W=${4:-20}
PEERS=${FOMM4J_PEERS:-$here/../shared/peers}
JAVA_HOME=$("$here/scripts/find-jdk25.sh") || exit 1
jar="$here/fomm-bench/target/fomm-bench.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$here"/fomm-core/src "$here"/fomm-bench/src -newer "$jar" -print -quit)" ]; then
  (cd "$here" && ./mvnw-jdk25 -q package -DskipTests -pl fomm-core,fomm-bench -am) >&2
fi
if [ -x "$PEERS/setup.sh" ]; then "$PEERS/setup.sh" >/dev/null; fi
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
  -Dfomm4j.threads="$T" -cp "$jar" org.fomm4j.bench.PeerComparison --peers "$PEERS" --rounds "$R" --reps "$N" --warmup "$W"

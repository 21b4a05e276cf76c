#!/usr/bin/env bash
# Long run of the reader fuzzer (Tests/TIDataTests/ReaderFuzzing.swift): the safetensors, pickle,
# config.json, vocab.txt, tokenizer.json and TSV readers, each for SECONDS (default 110, i.e. 11 min
# in all) from a fresh seed, under an address-space limit so that an unbounded allocation ends in
# a failed allocation instead of taking the machine. Prints one line of counts per reader.
#   notebooks-cli/fuzz-readers.sh [SECONDS] [SEED]
# The inputs follow from the seed alone: after a trap, rerun with the same seed and
# TIANALYZE_FUZZ_LAST=/tmp/fuzz-last set (the input being read is then kept in /tmp/fuzz-last-<reader>;
# writing it every time slows the run fiftyfold). A hang (one input over 10 s) is saved by the
# harness and named on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
per_reader=${1:-110}
seed=${2:-$(date +%s)}
report=$(mktemp /tmp/tianalyze-fuzz-report.XXXXXX)
swift build --build-tests >/dev/null
status=0
( ulimit -v 6000000
  TIANALYZE_FUZZ_SECONDS=$per_reader TIANALYZE_FUZZ_SEED=$seed TIANALYZE_FUZZ_REPORT=$report \
  swift test --skip-build --filter ReaderFuzzTests ) >/dev/null 2>&1 || status=$?
echo "seed $seed, $per_reader s per reader, test status $status"
cat "$report"
awk '{n += $3; s += $6} END {printf "all readers: %d inputs in %d s\n", n, s}' "$report"
rm -f "$report"
exit $status

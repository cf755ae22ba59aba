#!/usr/bin/env bash
# A short bounded fuzzing pass for CI: the regression inputs once, then 15 s
# per harness (make fuzz-smoke); any crash, leak or timeout fails.
set -u
cd "$(dirname "$0")/../.."
if make -s fuzz-smoke >build/fuzz-smoke.log 2>&1; then
  echo "PASS fuzz/smoke ($(grep -h 'DONE' build/fuzz-smoke.log | sed 's/.*DONE *//' | tr '\n' ';'))"
else
  echo "FAIL fuzz/smoke: $(grep -m3 -E 'ERROR|SUMMARY|error' build/fuzz-smoke.log | tr '\n' ' ')"
fi

#!/usr/bin/env bash
# Runs after the tests in .ci/run: the 60-second soak (faults, leaks, wrong-but-verified records) and a quick
# smoke run of every benchmark (small workloads; it fails on a failed check or a benchmark that cannot run, never on
# a missed performance target — timing on a shared machine is noise; the README's figures come from a full `pnpm bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm soak --duration 60
pnpm bench --quick

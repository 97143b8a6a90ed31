# shellcheck shell=bash
# One-command set-up. Source it so the Node 22 it may install stays on your PATH:
#   source scripts/setup.sh
# then `pnpm demo` and `pnpm test` work in the same shell.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ensure-node.sh" || return 1 2>/dev/null || exit 1
(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pnpm install --frozen-lockfile) || return 1 2>/dev/null || exit 1
echo "vllm-tito: ready with node $(node --version) and pnpm $(pnpm --version). Try: pnpm demo" >&2

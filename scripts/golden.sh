#!/usr/bin/env bash
# Regenerates test/cli/golden/demo.txt from the built CLI (after `npm run build`), with the
# volatile parts normalised as test/cli/golden.test.ts does. Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
set +e
out=$(CHARTER_HOME="$home/h" CHARTER_PASSPHRASE='golden transcript passphrase' node bin/charter demo)
code=$?
set -e
{
  echo '$ charter demo'
  printf '%s\n' "$out" | sed -E 's/did:key:z[1-9A-HJ-NP-Za-km-z]+/did:key:<id>/g; s/did:jwk:[A-Za-z0-9_-]+…?/did:jwk:<id>/g; s/urn:uuid:[0-9a-f-]{36}/urn:uuid:<uuid>/g; s/status index [0-9]+/status index <n>/g'
  echo "[exit $code]"
} > test/cli/golden/demo.txt

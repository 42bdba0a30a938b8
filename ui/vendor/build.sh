#!/bin/sh
# Rebuilds noble-<ciphers>-<curves>-<hashes>.min.js from noble-entry.js. Run by hand when upgrading;
# CI never runs it (the bundle is committed). Needs node + npm and network access to the npm registry.
set -eu
CIPHERS=2.4.0
CURVES=2.4.0
HASHES=2.4.0
ESBUILD=0.28.2
# npm integrity (sha512 of the registry tarballs), checked after installing.
I_CIPHERS='sha512-AnjFn0Jv92laAkvMrghlFZq4qQCIN/4DxFV/eooqtC2YTjB7kBeLMS2T9KJX4Dn+ZVXLOwK0lSgqDtx9gvxtiw=='
I_CURVES='sha512-P4/62zrgfH33CneE3Dn4WhJVA22YUU0eR51wKIan4NVRvwsA0YnPTwWGpNbpuacSujmSFLvyzpyuR30+fbq2Ew=='
I_HASHES='sha512-X5XaVWZIBCT7HHZGm5I7ZQXDwLG+bGXuSrMQAW+7Zvl87h1kmc1ZB1VSRJcpUfoUrGQp4Fkoxm5kZ+Ms+aW+eA=='

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${VENDOR_BUILD_DIR:-$(mktemp -d)}
cd "$WORK"
[ -f package.json ] || npm init -y >/dev/null
npm install --save-exact --no-audit --no-fund \
  "@noble/ciphers@$CIPHERS" "@noble/curves@$CURVES" "@noble/hashes@$HASHES" "esbuild@$ESBUILD"
for pair in "ciphers $I_CIPHERS" "curves $I_CURVES" "hashes $I_HASHES"; do
  set -- $pair
  got=$(node -p "require('./package-lock.json').packages['node_modules/@noble/$1'].integrity")
  [ "$got" = "$2" ] || { echo "integrity mismatch for @noble/$1: $got" >&2; exit 1; }
done
cp "$HERE/noble-entry.js" entry.js
OUT="$HERE/noble-$CIPHERS-$CURVES-$HASHES.min.js"
{
  echo "/*! @noble/ciphers $CIPHERS, @noble/curves $CURVES, @noble/hashes $HASHES (c) Paul Miller, MIT; see LICENSE-noble.txt. Built by ui/vendor/build.sh. */"
  npx esbuild entry.js --bundle --format=esm --minify --legal-comments=none --log-level=warning
} >"$OUT"
echo "wrote $OUT ($(wc -c <"$OUT") bytes, $(gzip -9c "$OUT" | wc -c) gzipped)"

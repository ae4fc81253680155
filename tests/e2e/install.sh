#!/usr/bin/env bash
# Installs the browser-test dependency (playwright-core, pinned by package-lock.json) into
# tests/e2e/node_modules. The browser itself is Debian's chromium (deploy/install-deps.sh).
# Idempotent: does nothing when the locked version is already there.
set -euo pipefail
cd "$(dirname "$0")"
want=$(node -e 'console.log(require("./package-lock.json").packages["node_modules/playwright-core"].version)')
have=$(node -e 'try{console.log(require("./node_modules/playwright-core/package.json").version)}catch(e){console.log("")}')
if [ "$want" = "$have" ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error

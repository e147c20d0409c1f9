#!/usr/bin/env bash
# Builds everything the page needs, then serves it and prints the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
exec node scripts/serve.mjs "${PORT:-8080}"

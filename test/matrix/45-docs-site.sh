#!/usr/bin/env bash
# The documentation site in headless Chromium: builds it (`pnpm run docs`: guides + API reference
# into docs/api/), then packages/core/scripts/check-docs-site.mjs opens it over HTTP on 127.0.0.1
# and checks pages, search, console errors and links; screenshots in
# packages/core/output/docs-site/. Skips (exit 0, saying why) without /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "docs-site: skipped: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)"
  exit 0
fi
pnpm run docs --output-logs=errors-only
pnpm --filter @socketpoll/core run docs:check

#!/usr/bin/env bash
# The jest suite on Node 22 and 24 (this machine runs Node 20).
set -euo pipefail
cd "$(dirname "$0")/../.."
pnpm --filter @socketpoll/core run test:node-lines

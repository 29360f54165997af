#!/usr/bin/env bash
# A release end to end through a local npm registry (verdaccio on 127.0.0.1): `changeset version`
# then `changeset publish`, then fresh projects installing with npm, pnpm and yarn 1, the
# --omit=optional error, the source build on simulated machines (SOURCE_INSTALL_RUNS fresh installs
# each, 2 by default) and when forced without a compiler, TypeScript consumers and the documented esbuild
# bundle. See packages/release-test/test/release.mjs; it skips (exit 0, saying why) where no
# prebuilt backend fits this machine. The registry and its storage are removed in every case.
set -euo pipefail
cd "$(dirname "$0")/../.."
node packages/release-test/test/release.mjs

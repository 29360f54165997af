#!/usr/bin/env node
'use strict';
// The `prepack` of the packages that depend on their siblings through `workspace:*`: npm copies that
// protocol into the tarball as it is, and `npm install` of such a tarball fails with
// EUNSUPPORTEDPROTOCOL. pnpm (`pnpm pack`, `pnpm publish`, and `pnpm release`, which runs
// `changeset publish` through it) writes the real versions. So packing with npm stops here, early,
// and says which command to use.
const agent = process.env.npm_config_user_agent ?? '';
if (!agent.startsWith('pnpm/')) {
  const name = require(`${process.cwd()}/package.json`).name;
  console.error(
    `${name}: pack and publish with pnpm, not ${agent.split(' ')[0] || 'this tool'}: its dependencies on the other ` +
      'socketpoll packages are written `workspace:*`, which only pnpm turns into versions (a tarball packed by npm ' +
      'cannot be installed: EUNSUPPORTEDPROTOCOL). Run `pnpm pack` in this folder, or `pnpm release` at the root.',
  );
  process.exit(1);
}

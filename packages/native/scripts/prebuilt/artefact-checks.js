'use strict';
// What both verifiers (verify-elf.js, verify-macho.js) check whatever the binary's format.
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Build-machine paths (home, the checkout, the temp dir) found in the file's bytes. */
function leakedBuildPaths(buf) {
  const text = buf.toString('latin1');
  return [os.homedir(), REPO_ROOT, os.tmpdir() + '/'].filter((p) => p && p.length > 1 && text.includes(p));
}

module.exports = { leakedBuildPaths };

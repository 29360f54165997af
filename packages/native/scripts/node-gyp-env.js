'use strict';
// Where node-gyp finds Node's headers: the running Node's own install prefix when it ships them
// (<prefix>/include/node/node_api.h), so nothing is downloaded. Derived from process.execPath,
// never hard-coded: a user's Node lives wherever it lives.
const fs = require('node:fs');
const path = require('node:path');

function localNodedir(execPath = process.execPath) {
  let prefix = path.resolve(path.dirname(fs.realpathSync(execPath)), '..');
  const candidates = [prefix, path.resolve(path.dirname(execPath), '..')];
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  return null;
}

/** Environment for a node-gyp child process: npm_config_nodedir set when local headers exist. */
function nodeGypEnv(base = process.env) {
  const env = { ...base };
  const nodedir = env.npm_config_nodedir || localNodedir();
  if (nodedir) env.npm_config_nodedir = nodedir;
  return env;
}

/** Path of the node-gyp CLI: the project's own dependency, else the one bundled with npm. */
function nodeGypBin() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npmDir = path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
    return path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  }
}

module.exports = { localNodedir, nodeGypEnv, nodeGypBin };

// `node node-gyp-env.js` prints the local nodedir (empty when the headers are not there): .ci/run.
if (require.main === module) console.log(localNodedir() ?? '');

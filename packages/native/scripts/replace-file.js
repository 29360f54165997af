'use strict';
// replaceFile(from, dest): puts a freshly built addon in place atomically (copy to a temporary file
// beside dest, then rename over it). Copying over dest in place would rewrite the pages of a
// .node file that a running process has mapped, which kills that process with SIGBUS; a rename
// leaves the old inode to whoever still has it loaded.
const fs = require('node:fs');
const path = require('node:path');

function replaceFile(from, dest) {
  const target = path.resolve(dest);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    fs.copyFileSync(from, tmp);
    fs.renameSync(tmp, target);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

module.exports = { replaceFile };

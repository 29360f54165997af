'use strict';
// Prints the runtime's name, version and CPU, e.g. `Node 22.23.5 x64`, `Bun 1.4.4 x64`.
const name = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : typeof Deno !== 'undefined' ? `Deno ${Deno.version.deno}` : `Node ${process.versions.node}`;
console.log(`${name} ${process.arch}`);

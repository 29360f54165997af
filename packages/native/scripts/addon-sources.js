'use strict';
// What every socketpoll.node is made of, and what it exports: the one list that node-gyp
// (gyp/binding.gyp reads it with `node ../scripts/addon-sources.js --gyp`) and the Zig cross-build
// (prebuilt/zig-addon.js) compile, plus the backend's own SocketPoll_<backend>.c.
// Paths are relative to packages/native.

/** The binding (C++) and what every backend shares (C). */
const BINDING_SOURCES = [
  'src/binding/binding.cc',
  'src/binding/batch_io.cc',
  'src/binding/fd_io.cc',
  'src/binding/fd_watcher.cc',
  'src/binding/serial.cc',
  'src/binding/thread_watcher.cc',
  'src/binding/gpio.cc',
  'src/poll/SocketPoll_common.c',
];

/** The backend's C file. */
const backendSource = (backend) => `src/poll/SocketPoll_${backend}.c`;

/** The Node-API entry points: the only symbols an addon exports (C names; Mach-O prefixes `_`). */
const ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];

/** Preprocessor definitions of every build. */
const DEFINES = ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'];

if (require.main === module) {
  // For gyp/binding.gyp's <!@(...): space-separated, paths relative to gyp/.
  if (process.argv[2] === '--gyp') console.log(BINDING_SOURCES.map((s) => `../${s}`).join(' '));
  else if (process.argv[2] === '--gyp-defines') console.log(DEFINES.join(' '));
  else process.exitCode = 2;
}

module.exports = { BINDING_SOURCES, backendSource, ENTRY_POINTS, DEFINES };

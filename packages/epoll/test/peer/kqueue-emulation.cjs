'use strict';
// Preloaded (`node -r`) to run the drop-in on the kqueue backend: the real kqueue source built
// against the test-only kqueue emulation over epoll (never shipped). Worker threads inherit the
// preload through execArgv.
const path = require('node:path');
const addonPath = path.resolve(__dirname, '../../../native/gyp/build/Release/socketpoll_kqueue_emulated.node');
require('../..').setPollerOptions({ addonPath });

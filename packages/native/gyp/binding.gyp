# The Node addons. One binding (src/binding/*.cc) compiled once per backend with that backend's C
# file: target socketpoll_<backend> -> build/Release/socketpoll_<backend>.node. Built by
# scripts/build-addons.js (which points node-gyp at the running Node's own headers); the backend
# packages copy their file from here. This file lives in a subfolder on purpose: pnpm runs an
# implicit `node-gyp rebuild` on any package that has a binding.gyp in its root.
{
  'variables': {
    # The binding and SocketPoll_common.c: listed once, in scripts/addon-sources.js.
    'binding_sources': ['<!@(node ../scripts/addon-sources.js --gyp)'],
  },
  'target_defaults': {
    'include_dirs': [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      '../include',
      '../src/binding',
    ],
    'defines': ['<!@(node ../scripts/addon-sources.js --gyp-defines)'],
    'cflags': ['-Wall', '-Wextra', '-fvisibility=hidden'],
    'cflags_c': ['-std=gnu11'],
    'cflags_cc': ['-std=gnu++17'],
    'xcode_settings': {
      'OTHER_CFLAGS': ['-Wall', '-Wextra', '-fvisibility=hidden'],
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      'MACOSX_DEPLOYMENT_TARGET': '11.0',
    },
  },
  'targets': [
    {
      'target_name': 'socketpoll_poll',
      'sources': ['<@(binding_sources)', '../src/poll/SocketPoll_poll.c'],
    },
    {
      # Test-only helper that makes socketpairs, pipes, ptys, eventfds for the jest suite.
      'target_name': 'fd_helper',
      'sources': ['../src/test/node/fd_helper.c'],
    },
  ],
  'conditions': [
    ['OS=="linux"', {
      'targets': [
        {
          'target_name': 'socketpoll_epoll',
          'sources': ['<@(binding_sources)', '../src/poll/SocketPoll_epoll.c'],
        },
        {
          # TEST-ONLY, never shipped: the kqueue backend on the kqueue emulation over epoll
          # (src/test/kqueue_emulation), so the jest suite runs SocketPoll_kqueue.c on Linux.
          # Its include dir is an -I, so its sys/event.h comes before the system headers (Linux has
          # none of that name; node-gyp's own -I dirs have none either).
          'target_name': 'socketpoll_kqueue_emulated',
          'sources': [
            '<@(binding_sources)',
            '../src/poll/SocketPoll_kqueue.c',
            '../src/test/kqueue_emulation/kqueue_emulation.c',
          ],
          'include_dirs+': ['../src/test/kqueue_emulation'],
        },
      ],
    }],
    # OpenBSD has EVFILT_USER only from 7.8, which the kqueue backend needs: the poll backend serves it.
    ['OS=="mac" or OS=="freebsd"', {
      'targets': [
        {
          'target_name': 'socketpoll_kqueue',
          'sources': ['<@(binding_sources)', '../src/poll/SocketPoll_kqueue.c'],
        },
      ],
    }],
  ],
}

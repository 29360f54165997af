'use strict';
// A broken stand-in for the drop-in: it accepts every call and keeps the process alive while an
// fd is registered, as the real one does, but never delivers an event. The peer-suite harness
// runs the suite against it first and must report failures: a test whose end needs an event
// hangs (the harness's timeout), performance-check prints 0 events per second.
class Epoll {
  constructor(callback) {
    this.callback = callback;
    this.closed = false;
    this.fds = new Set();
    this.holder = undefined;
  }
  add(fd) { this.fds.add(fd); this.hold(); return this; }
  modify() { return this; }
  remove(fd) { this.fds.delete(fd); this.hold(); return this; }
  close() { this.fds.clear(); this.hold(); this.closed = true; return null; }
  hold() {
    if (this.fds.size > 0 && this.holder === undefined) this.holder = setInterval(() => {}, 1000);
    if (this.fds.size === 0 && this.holder !== undefined) this.holder = clearInterval(this.holder);
  }
}
for (const [name, value] of Object.entries({ EPOLLIN: 1, EPOLLPRI: 2, EPOLLOUT: 4, EPOLLERR: 8, EPOLLHUP: 0x10, EPOLLRDHUP: 0x2000, EPOLLONESHOT: 0x40000000, EPOLLET: 0x80000000 })) {
  Epoll[name] = value;
}
module.exports = { Epoll };

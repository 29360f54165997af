// systems.mjs — the table of systems and workloads the benchmark knows. One row per system.
//   id:      what run.mjs passes to the runner
//   kind:    'c' (build/anchor <arg>) or 'node' (src/child.mjs)
//   label:   how the report names it
//   color/dash: chart style
//   registration: whether the registration workload applies; regLabel: its label there (registration
//                 does not depend on wait() or start())
//   paced:    whether the paced CPU-per-event workload applies; pacedOnly: runs in no other workload
//   onlyWhenNamed: not in a run unless --systems names it

export const REFERENCE = 'c-epoll-level';

export const SYSTEMS = [
  { id: 'c-epoll-level', kind: 'c', arg: 'epoll-level', label: 'raw C epoll (level)', color: '#000000', registration: true, paced: true },
  { id: 'c-epoll-edge', kind: 'c', arg: 'epoll-edge', label: 'raw C epoll (edge)', color: '#666666', dash: '6 4' },
  { id: 'c-poll', kind: 'c', arg: 'poll', label: 'raw C poll', color: '#999999', dash: '2 3', registration: true },
  // Diagnostic: the kernel part of start()'s design (an epoll fd watched by the loop's epoll, then
  // epoll_wait(inner, 0) per wake-up), in C: what the nesting alone costs.
  { id: 'c-epoll-nested', kind: 'c', arg: 'epoll-nested', label: 'raw C epoll, nested (diagnostic)', color: '#bcbd22', dash: '6 2 2 2' },
  { id: 'sp-epoll-start', kind: 'node', label: 'socketpoll epoll start()', color: '#d62728', paced: true },
  { id: 'sp-epoll-wait', kind: 'node', label: 'socketpoll epoll wait()', regLabel: 'socketpoll epoll', color: '#ff7f0e', registration: true },
  // The helper-thread delivery (SOCKETPOLL_DELIVERY=thread: what Bun and Deno use) on the same
  // backend, beside the uv_poll row above.
  { id: 'sp-epoll-thread', kind: 'node', label: 'socketpoll epoll start(), helper thread', color: '#8b0000', dash: '3 2', paced: true },
  { id: 'sp-epoll-batch', kind: 'node', label: 'socketpoll epoll start() + batched I/O', color: '#e377c2' },
  { id: 'sp-poll-start', kind: 'node', label: 'socketpoll poll start()', color: '#1f77b4' },
  { id: 'sp-poll-wait', kind: 'node', label: 'socketpoll poll wait()', regLabel: 'socketpoll poll', color: '#17becf', registration: true },
  { id: 'npm-epoll', kind: 'node', label: 'npm epoll', color: '#2ca02c', registration: true, paced: true },
  // The same code as npm-epoll on @socketpoll/epoll (src/epoll-dropin.mjs compares the two).
  { id: 'sp-epoll-dropin', kind: 'node', label: '@socketpoll/epoll (drop-in for npm epoll)', color: '#98df8a', registration: true, paced: true, onlyWhenNamed: true },
  { id: 'net', kind: 'node', label: 'net.Socket', color: '#9467bd', registration: true, paced: true },
  // Diagnostic, not an anchor: Node's own per-fd watcher (uv_poll_t) with one JS call per
  // event and the same fs I/O as the socketpoll rows: the floor of event-loop delivery in Node.
  { id: 'uv-poll', kind: 'node', label: 'uv_poll_t per fd (diagnostic)', color: '#8c564b', dash: '4 2', paced: true },
  // Diagnostic, only when named (--systems): uv-poll plus a poll(2) per event for the fd's exact
  // revents, what watching fds directly with uv_poll_t would cost if it kept POLL_HANGUP and
  // POLL_ERROR exact (libuv reports a hang-up as readable and an error as a stopped watch).
  { id: 'uv-poll-exact', kind: 'node', label: 'uv_poll_t per fd + poll(2) for exact events (diagnostic)', color: '#c49c94', dash: '4 2', paced: true, onlyWhenNamed: true },
  // Diagnostic, only when named (--systems): one uv_poll_t per fd with the events of a loop
  // iteration gathered in C and handed to JS in one call (exact on sockets: poll(2) only when libuv
  // reports UV_DISCONNECT or an error): what adaptive direct watching of sockets could cost.
  { id: 'uv-poll-batched', kind: 'node', label: 'uv_poll_t per fd, batched per loop turn (diagnostic)', color: '#dbdb8d', dash: '4 2', paced: true, onlyWhenNamed: true },
  // Diagnostic, only when named: the binding's poller without @socketpoll/core's TypeScript layer.
  { id: 'sp-epoll-native', kind: 'node', label: 'socketpoll binding alone, uv_poll path (diagnostic)', color: '#ad494a', dash: '2 2', paced: true, onlyWhenNamed: true },
  // The stream layer over the same poller (the default one): paced workload only (the throughput
  // rows of the streams are in src/streams.mjs).
  { id: 'sp-stream', kind: 'node', label: 'socketpoll readableFrom() stream', color: '#ff9896', dash: '5 3', paced: true, pacedOnly: true },
];

export const byId = Object.fromEntries(SYSTEMS.map((s) => [s.id, s]));

export const THROUGHPUT_WORKLOADS = ['oneway', 'sparse', 'bounce'];

export const WORKLOAD_TEXT = {
  oneway: 'N socketpairs, one end of each registered, every registered fd ready every round: each event reads the byte and writes one byte back into the other end.',
  sparse: 'the same N registrations, one active pair: per-event cost against the number of registered fds (O(ready) against O(registered)).',
  bounce: 'both ends of N pairs registered (2N fds), one byte per pair, each end echoes it back.',
  latency: 'a separate writer process stamps CLOCK_MONOTONIC, writes the 8-byte stamp, waits for a 1-byte ack and sleeps; the receiver takes the time at callback entry (receiver idle between samples).',
  paced: 'a separate pacer process writes 1 byte at a fixed rate into the N pairs in turn (absolute deadlines: a late wake-up catches up, so the mean rate holds; the first 4 000 events come at 20 000/s, inside the warm-up, so that V8 has optimised the receivers\' code); the receiver reads what is ready, as the throughput rows do, and its own CPU time (user + system, all threads: getrusage in C, process.cpuUsage() in JS) over the window is divided by the bytes received. The pacer\'s CPU is not counted.',
  registration: 'add + mod + del of N fds, in rounds (ops/s); memory per registered fd (RSS growth of the process, and kernel slab growth of eventpoll_epi + eventpoll_pwq, system-wide).',
};

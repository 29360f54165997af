'use strict';
// onoff, unchanged, on a real kernel's sysfs GPIO interrupts with @socketpoll/epoll as its `epoll`
// (in the device lab: test/lab/lab.sh runs it as root in a VM with gpio-sim). A simulated chip is
// made through configfs; the kernel numbers its lines from a base (512 here, as on current
// Raspberry Pi kernels); onoff exports line 3 as an input with edge "both", and each pull-up or
// pull-down written to the simulator is an edge: the kernel wakes EPOLLPRI on the line's `value`
// file, @socketpoll/epoll calls onoff's handler, onoff reads the value and calls the watcher, and
// only then comes the next edge.
//   node onoff-gpio.cjs <folder holding node_modules/onoff, whose epoll is the drop-in>
// Also run with LAB_WORKER=1 (the whole program inside a worker_threads Worker).
const fs = require('node:fs');
const path = require('node:path');

const app = path.resolve(process.argv[2]);
const { Gpio } = require(path.join(app, 'node_modules/onoff'));
const epoll = require(path.join(app, 'node_modules/epoll'));
const EDGES = ['pull-up', 'pull-down', 'pull-up', 'pull-down', 'pull-up', 'pull-down'];
const LINE = 3;

function makeChip(name) {
  const dir = `/sys/kernel/config/gpio-sim/${name}`;
  fs.mkdirSync(`${dir}/bank0`, { recursive: true });
  fs.writeFileSync(`${dir}/bank0/num_lines`, '8');
  fs.writeFileSync(`${dir}/live`, '1');
  const devName = fs.readFileSync(`${dir}/dev_name`, 'utf8').trim();
  const chipName = fs.readFileSync(`${dir}/bank0/chip_name`, 'utf8').trim();
  const sysfs = fs.readdirSync('/sys/class/gpio').filter((e) => e.startsWith('gpiochip'))
    .find((e) => fs.readFileSync(`/sys/class/gpio/${e}/label`, 'utf8').startsWith(`${devName}:`));
  if (!sysfs) throw new Error(`no /sys/class/gpio chip for ${devName}: is CONFIG_GPIO_SYSFS off?`);
  const base = Number(fs.readFileSync(`/sys/class/gpio/${sysfs}/base`, 'utf8'));
  const pull = (line, how) => fs.writeFileSync(`/sys/devices/platform/${devName}/${chipName}/sim_gpio${line}/pull`, how);
  return { base, pull };
}

async function main(label) {
  const t0 = Date.now();
  const { base, pull } = makeChip(`epoll-onoff-${process.pid}-${label.replace(/\W/g, '')}`);
  pull(LINE, 'pull-down');
  const accessible = Gpio.accessible;
  const button = new Gpio(base + LINE, 'in', 'both');
  // One edge at a time: each pull waits for the callback of the one before, so every edge is a
  // notification of its own (sysfs reports a change since the last read, so edges that came faster
  // than the reads would be one callback with the latest value; a slow machine must not fail).
  const values = [];
  let edgeSeen = () => {};
  button.watch((err, value) => {
    if (err) throw err;
    values.push(value);
    edgeSeen();
  });
  for (const how of EDGES) {
    const before = values.length;
    const seen = new Promise((resolve) => (edgeSeen = resolve));
    pull(LINE, how);
    const timer = setTimeout(() => edgeSeen(), 10000);
    await seen;
    clearTimeout(timer);
    if (values.length === before) break; // no callback within 10 s: reported below
  }
  button.unexport();
  const expected = EDGES.map((how) => (how === 'pull-up' ? 1 : 0));
  const ok = accessible === true && JSON.stringify(values) === JSON.stringify(expected);
  const dropin = epoll.Epoll === require(path.join(__dirname, '../..')).Epoll;
  console.log(`${ok && dropin ? 'ok' : 'not ok'} - onoff ${label}: line ${base + LINE} (base ${base}), Gpio.accessible ${accessible}, watch() got ${JSON.stringify(values)} for ${EDGES.length} edges (expected ${JSON.stringify(expected)}), epoll is @socketpoll/epoll: ${dropin} (${Date.now() - t0} ms)`);
  return ok && dropin;
}

const runtime = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : typeof Deno !== 'undefined' ? `Deno ${Deno.version.deno}` : `Node ${process.versions.node}`;
const { isMainThread, Worker, parentPort } = require('node:worker_threads');
if (isMainThread && process.env.LAB_WORKER === '1') {
  const w = new Worker(__filename, { argv: process.argv.slice(2) });
  w.on('message', (ok) => (process.exitCode = ok ? 0 : 1));
  w.on('error', (e) => {
    console.log(`not ok - worker: ${e.stack}`);
    process.exitCode = 1;
  });
} else {
  main(`${runtime}${isMainThread ? '' : ', in a worker'}`).then(
    (ok) => (parentPort ? parentPort.postMessage(ok) : (process.exitCode = ok ? 0 : 1)),
    (e) => {
      console.log(`not ok - ${e.stack}`);
      if (parentPort) parentPort.postMessage(false);
      else process.exitCode = 1;
    },
  );
}

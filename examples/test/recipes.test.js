'use strict';
// Runs each compiled recipe (build/recipes/*.js, from `pnpm build`) as a user would, on real fds,
// and checks what it printed.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const BUILD = path.join(__dirname, '..', 'build', 'recipes');

function runRecipe(name, args = []) {
  const file = path.join(BUILD, `${name}.js`);
  assert.ok(fs.existsSync(file), `${file} is missing: run \`pnpm build\``);
  const r = spawnSync(process.execPath, [file, ...args], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `${name} exited with ${r.status} (${r.signal ?? 'no signal'}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

test('fifo: reads every line a writer process sends, then sees it hang up', () => {
  assert.match(runRecipe('fifo'), /readings: writer gone; got "reading 1\\nreading 2\\nreading 3\\n"/);
});

const linux = process.platform === 'linux';
test('native-fd: a timerfd and an eventfd made by an addon fire and are read', { skip: !linux && 'eventfd and timerfd are Linux only' }, () => {
  const out = runRecipe('native-fd');
  assert.match(out, /3 in all/);
  assert.match(out, /eventfd: signalled \(counter 1\)/);
});

const socat = spawnSync('socat', ['-V']).status === 0;
test('serial-port: talks to the other end of a socat pty pair', { skip: !socat && 'socat is not installed (apt-get install socat)' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-recipe-'));
  const [a, b] = [path.join(dir, 'ttyA'), path.join(dir, 'ttyB')];
  const pair = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !(fs.existsSync(a) && fs.existsSync(b)); i++) await new Promise((r) => setTimeout(r, 50));
    // The "device" end: opened before the recipe so it hears the recipe's "hello".
    const device = fs.openSync(b, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    const recipe = spawn(process.execPath, [path.join(BUILD, 'serial-port.js'), a], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    recipe.stdout.on('data', (d) => (out += d));
    recipe.stderr.on('data', (d) => (out += d));
    let heard = '';
    const buf = Buffer.alloc(256);
    for (let i = 0; i < 200 && !heard.includes('hello\n'); i++) {
      await new Promise((r) => setTimeout(r, 25));
      try {
        heard += buf.toString('utf8', 0, fs.readSync(device, buf));
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err;
      }
    }
    assert.equal(heard, 'hello\n');
    fs.writeSync(device, 'one\r\nbye\n');
    const code = await new Promise((resolve) => recipe.on('exit', resolve));
    fs.closeSync(device);
    assert.equal(code, 0, out);
    assert.equal(out, 'received: one\nreceived: bye\ndone\n');
  } finally {
    pair.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

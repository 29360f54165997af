'use strict';
// A small test runner that works the same on Node, Bun and Deno: test(name, fn) registers, run()
// runs them in order, prints `ok`/`not ok` lines with times and exits 1 if any failed.
const tests = [];
function test(name, fn) {
  tests.push({ name, fn });
}
async function run(title) {
  const only = process.env.GPIO_TEST_ONLY;
  let failed = 0;
  let ran = 0;
  const t0 = Date.now();
  for (const { name, fn } of tests) {
    if (only && !name.includes(only) && !name.startsWith('setup:') && !name.startsWith('teardown:')) continue;
    ran++;
    const start = Date.now();
    try {
      await fn();
      console.log(`ok ${ran} - ${name} (${Date.now() - start} ms)`);
    } catch (err) {
      failed++;
      console.log(`not ok ${ran} - ${name}`);
      console.log(String((err && err.stack) || err).split('\n').map((l) => `  # ${l}`).join('\n'));
    }
  }
  console.log(`# ${title}: ${ran - failed}/${ran} passed in ${Date.now() - t0} ms`);
  return failed === 0;
}
module.exports = { test, run };

'use strict';
// gpio-sim chips for tests, made and removed through configfs (the lab's kernel has the driver).
//   const chip = makeChip({ lines: 8, names: { 3: 'LED' } });
//   chip.setPull(0, 'pull-up')   drives input line 0 high (an edge if it was low)
//   chip.value(2)                the level an output line drives (0 or 1)
//   chip.remove()
const fs = require('node:fs');
const path = require('node:path');

const CONFIGFS = '/sys/kernel/config/gpio-sim';
let serial = 0;

function available() {
  return fs.existsSync(CONFIGFS);
}

function makeChip({ lines = 8, names = {}, label } = {}) {
  const dir = path.join(CONFIGFS, `t${process.pid}-${serial++}`);
  fs.mkdirSync(dir);
  const bank = path.join(dir, 'bank0');
  fs.mkdirSync(bank);
  fs.writeFileSync(path.join(bank, 'num_lines'), String(lines));
  if (label) fs.writeFileSync(path.join(bank, 'label'), label);
  for (const [offset, name] of Object.entries(names)) {
    const l = path.join(bank, `line${offset}`);
    fs.mkdirSync(l);
    fs.writeFileSync(path.join(l, 'name'), name);
  }
  fs.writeFileSync(path.join(dir, 'live'), '1');
  const devName = fs.readFileSync(path.join(dir, 'dev_name'), 'utf8').trim();
  const chipName = fs.readFileSync(path.join(bank, 'chip_name'), 'utf8').trim();
  const sysfs = path.join('/sys/devices/platform', devName, chipName);
  const attr = (offset, name) => path.join(sysfs, `sim_gpio${offset}`, name);
  return {
    name: chipName,
    path: `/dev/${chipName}`,
    devName,
    label: label || devName + '-node0',
    setPull(offset, pull) {
      fs.writeFileSync(attr(offset, 'pull'), pull);
    },
    pull(offset) {
      return fs.readFileSync(attr(offset, 'pull'), 'utf8').trim();
    },
    value(offset) {
      return Number(fs.readFileSync(attr(offset, 'value'), 'utf8').trim());
    },
    attr,
    remove() {
      fs.writeFileSync(path.join(dir, 'live'), '0');
      for (const n of fs.readdirSync(bank)) if (n.startsWith('line')) fs.rmdirSync(path.join(bank, n));
      fs.rmdirSync(bank);
      fs.rmdirSync(dir);
    },
  };
}

module.exports = { available, makeChip };

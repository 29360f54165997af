// list(): from sysfs and /dev/serial/by-id (Linux) or the /dev/cu.* and /dev/tty.* names (macOS),
// checked against a fake tree shaped like the real ones, and run on this machine.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SerialPort, SocketPollBinding } from '../src';
import { listPorts } from '../src/list';

function fakeLinux(): { sys: string; dev: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-list-'));
  const sys = path.join(root, 'sys');
  const dev = path.join(root, 'dev');
  const tty = path.join(sys, 'class', 'tty');
  fs.mkdirSync(tty, { recursive: true });
  // A USB adapter: /sys/devices/pci0000:00/.../usb1/1-1/1-1:1.0/ttyUSB0, the USB device at 1-1.
  const usbDev = path.join(sys, 'devices', 'pci0000:00', '0000:00:14.0', 'usb1', '1-1');
  const iface = path.join(usbDev, '1-1:1.0', 'ttyUSB0');
  fs.mkdirSync(iface, { recursive: true });
  for (const [f, v] of Object.entries({ idVendor: '0403', idProduct: '6001', manufacturer: 'FTDI', serial: 'A50285BI' })) fs.writeFileSync(path.join(usbDev, f), `${v}\n`);
  fs.mkdirSync(path.join(tty, 'ttyUSB0'));
  fs.symlinkSync(iface, path.join(tty, 'ttyUSB0', 'device'));
  // Two 8250 ports: one with a UART (type 4, 16550A), one without (type 0).
  for (const [name, type] of [['ttyS0', '4'], ['ttyS1', '0']]) {
    const d = path.join(sys, 'devices', 'platform', 'serial8250', 'tty', name);
    fs.mkdirSync(d, { recursive: true });
    fs.mkdirSync(path.join(tty, name));
    fs.symlinkSync(path.join(sys, 'devices', 'platform', 'serial8250'), path.join(tty, name, 'device'));
    fs.writeFileSync(path.join(tty, name, 'type'), `${type}\n`);
  }
  // A virtual console: no device behind it.
  fs.mkdirSync(path.join(tty, 'tty1'));
  fs.mkdirSync(path.join(dev, 'serial', 'by-id'), { recursive: true });
  fs.symlinkSync('../../ttyUSB0', path.join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));
  return { sys, dev };
}

test('Linux: sysfs and /dev/serial/by-id', () => {
  const { sys, dev } = fakeLinux();
  expect(listPorts({ sys, dev, platform: 'linux' })).toEqual([
    { path: path.join(dev, 'ttyS0'), manufacturer: undefined, serialNumber: undefined, pnpId: undefined, locationId: undefined, productId: undefined, vendorId: undefined },
    {
      path: path.join(dev, 'ttyUSB0'),
      manufacturer: 'FTDI',
      serialNumber: 'A50285BI',
      pnpId: 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0',
      locationId: '1-1',
      productId: '6001',
      vendorId: '0403',
    },
  ]);
});

test('macOS: the cu.* and tty.* devices, path only', () => {
  const dev = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-list-dev-'));
  for (const name of ['cu.usbserial-110', 'tty.usbserial-110', 'ttys001', 'null', 'cu.Bluetooth-Incoming-Port']) fs.writeFileSync(path.join(dev, name), '');
  const ports = listPorts({ dev, platform: 'darwin' });
  expect(ports.map((p) => path.basename(p.path))).toEqual(['cu.Bluetooth-Incoming-Port', 'cu.usbserial-110', 'tty.usbserial-110']);
  expect(ports.every((p) => p.vendorId === undefined && p.manufacturer === undefined)).toBe(true);
});

test('this machine: each entry has a path and the other fields (undefined when unknown)', async () => {
  const ports = await SocketPollBinding.list();
  expect(await SerialPort.list()).toEqual(ports);
  for (const p of ports) {
    expect(typeof p.path).toBe('string');
    expect(Object.keys(p).sort()).toEqual(['locationId', 'manufacturer', 'path', 'pnpId', 'productId', 'serialNumber', 'vendorId']);
    expect(fs.existsSync(p.path)).toBe(true);
  }
  // eslint-disable-next-line no-console
  console.log(`list() on this machine: ${ports.length ? ports.map((p) => p.path).join(', ') : 'no serial ports'}`);
});

/**
 * @internal
 * Serial ports of this machine, without udev or a child process: Linux sysfs (`/sys/class/tty`)
 * and `/dev/serial/by-id`; on macOS the `/dev/cu.*` and `/dev/tty.*` devices.
 * @module
 */
import type { PortInfo } from '@serialport/bindings-interface';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** @internal where to look (tests point these at a fake tree). */
export interface ListRoots {
  sys?: string;
  dev?: string;
  platform?: string;
}

function readText(file: string): string | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function info(p: string, extra: Partial<PortInfo> = {}): PortInfo {
  return {
    path: p,
    manufacturer: extra.manufacturer,
    serialNumber: extra.serialNumber,
    pnpId: extra.pnpId,
    locationId: extra.locationId,
    productId: extra.productId,
    vendorId: extra.vendorId,
  };
}

/** The USB device (the directory with idVendor) above a tty's sysfs device, if any. */
function usbDevice(deviceDir: string, sysRoot: string): string | undefined {
  let dir = deviceDir;
  for (let i = 0; i < 8 && dir.startsWith(sysRoot) && dir !== sysRoot; i++) {
    if (fs.existsSync(path.join(dir, 'idVendor'))) return dir;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** @internal */
export function listPorts(roots: ListRoots = {}): PortInfo[] {
  const platform = roots.platform ?? process.platform;
  const dev = roots.dev ?? '/dev';
  if (platform === 'darwin') {
    return entries(dev)
      .filter((name) => /^(cu|tty)\./.test(name))
      .sort()
      .map((name) => info(path.join(dev, name)));
  }
  if (platform !== 'linux') return [];
  const sys = roots.sys ?? '/sys';
  const classDir = path.join(sys, 'class', 'tty');
  // /dev/serial/by-id/<name> -> ../../ttyUSB0: the persistent name, used as pnpId.
  const byId = new Map<string, string>();
  const byIdDir = path.join(dev, 'serial', 'by-id');
  for (const name of entries(byIdDir)) {
    try {
      byId.set(path.basename(fs.readlinkSync(path.join(byIdDir, name))), name);
    } catch {
      // not a link
    }
  }
  const out: PortInfo[] = [];
  for (const name of entries(classDir).sort(naturalOrder)) {
    const ttyDir = path.join(classDir, name);
    let deviceDir: string;
    try {
      deviceDir = fs.realpathSync(path.join(ttyDir, 'device'));
    } catch {
      continue; // no device behind it: a virtual console, ptmx, a pty
    }
    // The 8250 driver registers a fixed number of ports, most with no hardware: its `type` is 0
    // (PORT_UNKNOWN) for those.
    const type = readText(path.join(ttyDir, 'type'));
    if (type !== undefined && type === '0') continue;
    const usb = usbDevice(deviceDir, sys);
    if (usb === undefined) {
      out.push(info(path.join(dev, name), { pnpId: byId.get(name) }));
      continue;
    }
    out.push(
      info(path.join(dev, name), {
        manufacturer: readText(path.join(usb, 'manufacturer')),
        serialNumber: readText(path.join(usb, 'serial')),
        pnpId: byId.get(name),
        locationId: path.basename(usb),
        vendorId: readText(path.join(usb, 'idVendor')),
        productId: readText(path.join(usb, 'idProduct')),
      }),
    );
  }
  return out;
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

#!/usr/bin/env node
// A TUN device as a Duplex of IP packets. Node cannot issue the TUNSETIFF ioctl that attaches an
// fd of /dev/net/tun to an interface, so a small launcher does it and hands the fd to Node as
// fd 3 (here: Python's fcntl.ioctl, then exec of node; a C helper or systemd socket works too).
// This script re-launches itself that way, gives the interface an address, sends itself a UDP
// datagram through it and reads the IP packet; then answers by writing a packet into the device.
//
//   sudo node examples/streams/tun.js     (needs CAP_NET_ADMIN, python3 and ip)
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const { duplexOf } = require('@socketpoll/core');

const NAME = `sptun${process.pid % 10000}`;
const LAUNCHER = `
import fcntl, os, struct, sys
try:
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', sys.argv[1].encode(), 0x0001 | 0x1000))  # TUNSETIFF, IFF_TUN | IFF_NO_PI
except OSError as e:
    print('tun: skipped, attaching a TUN device failed (needs CAP_NET_ADMIN):', e)
    sys.exit(77)
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.set_inheritable(3, True)
os.execv(sys.argv[2], sys.argv[2:])
`;

function fdOpen(fd) {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

if (process.env.TUN_FD !== '3') {
  const why =
    process.platform !== 'linux' ? 'TUN devices here are Linux ones'
    : !fs.existsSync('/dev/net/tun') ? '/dev/net/tun does not exist (modprobe tun)'
    : spawnSync('python3', ['-V']).status !== 0 ? 'python3 is missing (it plays the launcher)'
    : spawnSync('ip', ['-V']).status !== 0 ? 'the ip command is missing'
    : undefined;
  if (why) {
    console.log(`tun: skipped, ${why}`);
    process.exit(0);
  }
  const r = spawnSync('python3', ['-c', LAUNCHER, NAME, process.execPath, __filename], {
    stdio: 'inherit',
    env: { ...process.env, TUN_FD: '3', TUN_NAME: NAME },
  });
  process.exit(r.status === 77 ? 0 : r.status ?? 1); // 77: the launcher printed why it skipped
}

async function main() {
  const name = process.env.TUN_NAME;
  if (!fdOpen(3)) throw new Error('fd 3 is not open: run this script directly, it launches itself');
  execFileSync('ip', ['addr', 'add', '10.250.77.1/24', 'dev', name]);
  execFileSync('ip', ['link', 'set', name, 'up']);
  const tun = duplexOf(3, { autoClose: true });
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '10.250.77.1', r));

  // Kernel -> device: a datagram to a peer on the device's subnet comes out as an IPv4 packet.
  const packet = await new Promise((resolve) => {
    tun.on('data', (p) => {
      if (p[0] >> 4 === 4 && p[9] === 17) resolve(p); // IPv4 + UDP (ignore IPv6 neighbour discovery)
    });
    sock.send('ping', 7777, '10.250.77.2');
  });
  const src = [...packet.subarray(12, 16)].join('.');
  const dst = [...packet.subarray(16, 20)].join('.');
  console.log(`read from ${name}: ${packet.length}-byte IPv4/UDP packet ${src} -> ${dst}:${packet.readUInt16BE(22)}, payload "${packet.subarray(28)}"`);

  // Device -> kernel: swap addresses and ports, new payload, fix the lengths and the header checksum.
  const payload = Buffer.from('pong');
  const reply = Buffer.concat([packet.subarray(0, 28), payload]);
  reply.writeUInt16BE(reply.length, 2);
  packet.copy(reply, 12, 16, 20);
  packet.copy(reply, 16, 12, 16);
  reply.writeUInt16BE(packet.readUInt16BE(22), 20);
  reply.writeUInt16BE(packet.readUInt16BE(20), 22);
  reply.writeUInt16BE(8 + payload.length, 24);
  reply.writeUInt16BE(0, 26); // no UDP checksum (allowed over IPv4)
  reply.writeUInt16BE(0, 10);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += reply.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  reply.writeUInt16BE(~sum & 0xffff, 10);
  const [message, from] = await new Promise((resolve) => {
    sock.once('message', (m, rinfo) => resolve([m, rinfo]));
    tun.write(reply);
  });
  console.log(`the socket received "${message}" from ${from.address}:${from.port} (written into ${name})`);
  sock.close();
  tun.destroy(); // closes fd 3: the interface goes away with it
  console.log('tun: done');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

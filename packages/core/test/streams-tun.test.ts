import { execFileSync, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { duplexOf, SocketPoll } from '../src';
import { BACKENDS } from './helpers/backends';
import { close, closeAll, tryOpenTun } from './helpers/fds';

afterEach(closeAll);

const HAVE_IP = spawnSync('ip', ['-V'], { stdio: 'ignore' }).status === 0;

/** Why TUN cannot be tested here, or undefined when it can. */
function tunUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'TUN devices are a Linux test here';
  if (!HAVE_IP) return 'the ip command (iproute2) is missing';
  const fd = tryOpenTun(`sptprobe${process.pid % 10000}`);
  if (fd < 0) return `/dev/net/tun with IFF_TUN | IFF_NO_PI failed with errno ${-fd} (needs CAP_NET_ADMIN and the tun module)`;
  close(fd);
  return undefined;
}
const reason = tunUnavailable();
if (reason) console.log(`skipped the TUN tests: ${reason}`);

/** An IPv4/UDP packet (UDP checksum 0: none, allowed over IPv4). */
function udpPacket(src: string, dst: string, srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const ip = (a: string): number[] => a.split('.').map(Number);
  const total = 20 + 8 + payload.length;
  const p = Buffer.alloc(total);
  p[0] = 0x45;
  p.writeUInt16BE(total, 2);
  p[8] = 64; // TTL
  p[9] = 17; // UDP
  Buffer.from(ip(src)).copy(p, 12);
  Buffer.from(ip(dst)).copy(p, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += p.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p.writeUInt16BE(~sum & 0xffff, 10);
  p.writeUInt16BE(srcPort, 20);
  p.writeUInt16BE(dstPort, 22);
  p.writeUInt16BE(8 + payload.length, 24);
  payload.copy(p, 28);
  return p;
}

(reason ? describe.skip : describe).each(BACKENDS.map((b, i) => ({ ...b, index: i })))('a TUN device as a duplex ($label)', ({ options, index }) => {
  test('reads the IP packets routed to it and injects the packets written to it', async () => {
    const name = `sptun${process.pid % 10000}${index}`;
    const net = `10.${200 + (process.pid % 50)}.${index + 1}`;
    const fd = tryOpenTun(name);
    expect(fd).toBeGreaterThanOrEqual(0);
    execFileSync('ip', ['addr', 'add', `${net}.1/24`, 'dev', name]);
    execFileSync('ip', ['link', 'set', name, 'up']);
    const poll = new SocketPoll(options);
    const sock = dgram.createSocket('udp4');
    try {
      const tun = duplexOf(fd, { poll });
      // Kernel -> TUN: a datagram to a peer address on the device's subnet.
      const marker = Buffer.from(`to-tun-${index}`);
      const seen = new Promise<Buffer>((resolve) => {
        tun.on('data', (packet: Buffer) => {
          if (packet[0] >> 4 === 4 && packet[9] === 17 && packet.includes(marker)) resolve(packet);
        });
      });
      await new Promise<void>((resolve) => sock.bind(0, `${net}.1`, resolve));
      sock.send(marker, 9999, `${net}.2`);
      const packet = await seen;
      expect(packet.subarray(16, 20)).toEqual(Buffer.from(`${net}.2`.split('.').map(Number)));
      expect(packet.readUInt16BE(22)).toBe(9999);
      // TUN -> kernel: a UDP packet from the peer to our socket.
      const payload = Buffer.from(`from-tun-${index}`);
      const got = once(sock, 'message') as Promise<[Buffer, dgram.RemoteInfo]>;
      tun.write(udpPacket(`${net}.2`, `${net}.1`, 5555, sock.address().port, payload));
      const [message, rinfo] = await got;
      expect(message).toEqual(payload);
      expect(rinfo).toMatchObject({ address: `${net}.2`, port: 5555 });
      tun.destroy();
    } finally {
      sock.close();
      poll.close();
    }
  });
});

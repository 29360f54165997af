// Sends one command to a QEMU human monitor on a unix socket and prints its answer.
//   node monitor.cjs <socket> '<command>'
'use strict';
const net = require('net');
const [sock, command] = process.argv.slice(2);
let out = '';
let sent = false;
const s = net.connect(sock);
s.setEncoding('utf8');
s.on('data', (chunk) => {
  out += chunk;
  // The monitor greets, then prints "(qemu) " after each answer.
  const prompts = out.split('(qemu) ').length - 1;
  if (!sent && prompts >= 1) {
    sent = true;
    s.write(command + '\n');
  } else if (sent && prompts >= 2) {
    const answer = out.split('(qemu) ')[1];
    process.stdout.write(answer.split('\n').slice(1).join('\n').replace(/\r/g, ''));
    s.end();
  }
});
s.on('error', (e) => {
  console.error(`monitor: ${sock}: ${e.message}`);
  process.exit(1);
});

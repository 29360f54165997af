/**
 * `@socketpoll/serialport` — a binding for the `serialport` packages on socketpoll: a program
 * written for `serialport` keeps `SerialPortStream`, the parsers and the libraries built on them,
 * and runs on Node, Bun and Deno and in worker threads, from the same prebuilt addon as
 * `@socketpoll/core`, with no thread per port.
 *
 * ```ts
 * import { SerialPort } from '@socketpoll/serialport';   // instead of: import { SerialPort } from 'serialport'
 * const port = new SerialPort({ path: '/dev/ttyUSB0', baudRate: 115200 });
 * port.on('data', (chunk) => console.log(chunk));
 * ```
 * @packageDocumentation
 */
export { SocketPollBinding, SocketPollPort, type SocketPollOpenOptions, type SocketPollPortInfo } from './binding';
export { SerialPort, type SerialPortOpenOptions } from './serialport';
export { SerialPortError } from './errors';

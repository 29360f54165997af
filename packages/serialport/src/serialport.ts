/**
 * `SerialPort`: `@serialport/stream`'s `SerialPortStream` with {@link SocketPollBinding}, taking the
 * constructor options of the `serialport` package's own `SerialPort`.
 *
 * ```ts
 * import { SerialPort } from '@socketpoll/serialport';
 * import { ReadlineParser } from '@serialport/parser-readline';
 *
 * const port = new SerialPort({ path: '/dev/ttyACM0', baudRate: 115200 });
 * port.pipe(new ReadlineParser()).on('data', (line) => console.log(line));
 * port.write('hello\n');
 * ```
 * @module
 */
import { type ErrorCallback, type StreamOptions, SerialPortStream } from '@serialport/stream';
import { SocketPollBinding, type SocketPollOpenOptions, type SocketPollPortInfo } from './binding';

/** Constructor options: the stream's (`autoOpen`, `highWaterMark`, `endOnClose`) and the binding's open options. */
export type SerialPortOpenOptions = Omit<StreamOptions<typeof SocketPollBinding>, 'binding'> & SocketPollOpenOptions;

/** A serial port as a Node duplex stream, on socketpoll: the `serialport` package's `SerialPort`, swapped. */
export class SerialPort extends SerialPortStream<typeof SocketPollBinding> {
  /** The binding, as `serialport`'s `SerialPort.binding`. */
  static readonly binding = SocketPollBinding;

  /** Serial ports of this machine (see {@link SocketPollBinding}). */
  static list(): Promise<SocketPollPortInfo[]> {
    return SocketPollBinding.list();
  }

  /** Opens `options.path` (unless `autoOpen: false`); `openCallback` gets the open's error or null. */
  constructor(options: SerialPortOpenOptions, openCallback?: ErrorCallback) {
    super({ binding: SocketPollBinding, ...options }, openCallback);
  }
}

/**
 * `@socketpoll/gpio` — GPIO lines on Linux through the character device (`/dev/gpiochipN`,
 * uAPI v2): list chips, read line info, request lines (by offset or name) with direction, edges,
 * bias, drive, active-low, debounce and event clock; get and set values; reconfigure; and get each
 * edge with the kernel's timestamp, delivered by socketpoll without a thread on Node and without
 * polling. Plus an `onoff`-shaped {@link Gpio} class.
 *
 * ```ts
 * import { openChip } from '@socketpoll/gpio';
 * const chip = openChip('gpiochip0');
 * const req = chip.requestLines({ lines: [17], edge: 'both', bias: 'pull-up', consumer: 'button' });
 * chip.close();
 * req.on('edge', ({ offset, edge, timestampNs, seqno }) => console.log(offset, edge, timestampNs, seqno));
 * ```
 * @packageDocumentation
 */
export {
  type LineSettings, type LineInfo, type EdgeEvent, type Direction, type Edge, type Bias, type Drive, type EventClock,
} from './abi';
export { listChips, openChip, requestLines, Chip, type ChipDescription } from './chip';
export { LineRequest, type RequestOptions, type LineSpec, type EdgeIteratorOptions } from './request';
export {
  Gpio, RASPBERRY_PI_CHIP_LABELS, type GpioOptions, type OnoffDirection, type OnoffEdge, type BinaryValue, type ValueCallback,
} from './onoff';
export {
  GpioError, ChipNotFoundError, LineNotFoundError, IncompatibleFlagsError, LineNotRequestedError, GpioClosedError,
  GpioSystemError, GpioBusyError,
} from './errors';

/**
 * The addon's JS surface is written in two places, binding.cc's header comment and loader.ts's
 * NativePoller / NativeAddon interfaces, and constants of the C interface are written out in
 * TypeScript: each is checked against the loaded addon here, so neither can drift.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as flags from '../src/flags';
import { loadBackend } from '../src/loader';
import { HANDLE_MAX, SOURCE_BITS } from '../src/sources';
import { BACKENDS } from './helpers/backends';

const LOADER = fs.readFileSync(path.resolve(__dirname, '../src/loader.ts'), 'utf8');
const BINDING = fs.readFileSync(path.resolve(__dirname, '../../native/src/binding/binding.cc'), 'utf8');

/** The member names of an interface declared in loader.ts. */
function members(name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(LOADER)?.[1] ?? '';
  return [...body.matchAll(/^ {2}(\w+)\??[(:]/gm)].map((m) => m[1]).sort();
}

/** binding.cc's header comment: the lines before the first #include. */
const COMMENT = BINDING.slice(0, BINDING.indexOf('#include'));

describe.each(BACKENDS)('the addon of $label', (backend) => {
  const { addon } = loadBackend(backend.options);

  test("a Poller's methods are NativePoller's, no more and no fewer, and binding.cc's comment names each", () => {
    const methods = Object.getOwnPropertyNames(addon.Poller.prototype).filter((m) => m !== 'constructor').sort();
    expect(methods).toEqual(members('NativePoller'));
    expect(methods.filter((m) => !new RegExp(`\\b${m}\\(`).test(COMMENT))).toEqual([]);
  });

  test("every member of NativeAddon is exported, and binding.cc's comment names each", () => {
    const declared = members('NativeAddon');
    expect(declared.filter((m) => !(m in addon))).toEqual([]);
    expect(declared.filter((m) => m !== 'constants' && m !== 'Poller' && !new RegExp(`\\b${m}\\b`).test(COMMENT))).toEqual([]);
  });

  test("the C interface's constants written out in TypeScript have the addon's values", () => {
    const { constants } = addon;
    expect(SOURCE_BITS).toEqual({ fd: constants.SOURCE_FD, timer: constants.SOURCE_TIMER, process: constants.SOURCE_PROCESS });
    expect(HANDLE_MAX).toBe(constants.HANDLE_MAX);
    expect(flags.MAX_EVENTS_LIMIT).toBe(constants.MAX_EVENTS_LIMIT);
  });
});

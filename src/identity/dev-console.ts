/**
 * oidc-provider prints notices (dev-key and runtime warnings) with
 * console.warn/info; while it is loaded or built they go to our logger.
 */
import type { Logger } from '../log.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC; this strips them.
const ANSI = /\x1b\[[0-9;]*m/g;
let quietDepth = 0;
let savedConsole: { warn: typeof console.warn; info: typeof console.info } | undefined;
const quietLoggers: Logger[] = [];

/**
 * Run `fn` while oidc-provider's console notices (dev-key and runtime warnings,
 * printed with console.warn/info) go to the logger at debug level instead.
 * Other console output passes through untouched.
 */
export async function quietly<T>(logger: Logger, fn: () => Promise<T>): Promise<T> {
  if (quietDepth++ === 0) {
    const original = { warn: console.warn, info: console.info };
    savedConsole = original;
    const route =
      (passThrough: (...args: unknown[]) => void) =>
      (...args: unknown[]): void => {
        const first = args[0];
        const target = quietLoggers[quietLoggers.length - 1];
        if (typeof first === 'string' && first.includes('oidc-provider ') && target) {
          target.debug({ source: 'oidc-provider' }, first.replace(ANSI, ''));
          return;
        }
        passThrough.apply(console, args);
      };
    console.warn = route(original.warn);
    console.info = route(original.info);
  }
  quietLoggers.push(logger);
  try {
    return await fn();
  } finally {
    quietLoggers.splice(quietLoggers.lastIndexOf(logger), 1);
    if (--quietDepth === 0 && savedConsole) {
      console.warn = savedConsole.warn;
      console.info = savedConsole.info;
      savedConsole = undefined;
    }
  }
}

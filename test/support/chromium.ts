/**
 * The real headless Chromium of this machine (Debian's `/usr/bin/chromium`),
 * driven by playwright-core. Never downloads a browser: without the binary
 * the launch fails and says so.
 */
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's chromium lives. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Launch flags: headless, no sandbox (containers), and nothing that phones home. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A headless Chromium; close it in afterAll. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, timeout: 30_000 });
}

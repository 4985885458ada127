/**
 * Progress for people while `airlock dev` seeds the emulator's demo data: the
 * seed takes seconds (more on a busy machine), and a start-up that prints
 * nothing for that long looks hung.
 */
import { DEMO_SIZES } from '../emulator/seed/demo.ts';

/** How often a "still seeding" line is printed while the seed runs. */
const TICK_MS = 3000;

/** Run `seeding`, saying what is seeded first, every few seconds that it still runs, and how long it took. */
export async function whileSeeding<T>(progress: (line: string) => void, seeding: Promise<T>, tickMs = TICK_MS): Promise<T> {
  const fmt = (n: number) => n.toLocaleString('en-US');
  progress(
    `snowflake  starting the emulator and seeding the demo data (${fmt(DEMO_SIZES.customers)} customers, ` +
      `${fmt(DEMO_SIZES.orders)} orders, ${fmt(DEMO_SIZES.employees)} employees)…`,
  );
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  const ticker = setInterval(() => progress(`           still seeding… ${seconds()} s`), tickMs);
  try {
    const result = await seeding;
    progress(`           demo data ready in ${seconds()} s`);
    return result;
  } finally {
    clearInterval(ticker);
  }
}

/**
 * How long a policy edit takes to be in force in a running process: the file
 * is replaced the way a ConfigMap update does it (new directory, atomic swap
 * of `..data`), and the time until `LivePolicy.current` has the new version
 * is measured, with the directory watch alone (poll off). Prints p50/p95/max.
 *
 *   npx tsx bench/reload.ts [runs]
 */
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { livePolicy } from '../src/app/live-policy.ts';
import { loadPolicyFile } from '../src/config/policy-file.ts';
import { createLogger } from '../src/log.ts';

const runs = Number(process.argv[2] ?? 50);
const text = (n: number) => `version: 1\nname: bench-${n}\ndefaults: { database: ANALYTICS, schema: PUBLIC }\nrules:\n  - { name: reads, match: { category: read }, action: allow }\n`;

const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-reload-'));
let generation = 0;
async function publish(body: string): Promise<void> {
  const stamp = `..${generation++}`;
  await mkdir(join(dir, stamp));
  await writeFile(join(dir, stamp, 'policy.yaml'), body);
  await symlink(stamp, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
}
await publish(text(0));
await symlink('..data/policy.yaml', join(dir, 'policy.yaml'));
const file = join(dir, 'policy.yaml');
const live = livePolicy(await loadPolicyFile(file), { logger: createLogger({ level: 'silent' }), file, pollMs: 0 });
await new Promise((r) => setTimeout(r, 200));

const times: number[] = [];
for (let i = 1; i <= runs; i++) {
  const start = performance.now();
  await publish(text(i));
  while (live.current.file.name !== `bench-${i}`) {
    if (performance.now() - start > 5000) throw new Error(`run ${i}: not reloaded within 5 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
  times.push(performance.now() - start);
}
live.close();
await rm(dir, { recursive: true, force: true });
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
console.log(`policy reload through a ..data swap, directory watch only, ${runs} runs: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`);

/**
 * The ways to run Airlock locally say the same thing everywhere. No Docker
 * engine runs here, so docker-compose.yml is parsed as YAML and its local
 * profile checked field by field (mocking nothing: the file is the contract);
 * the Node version is the same in package.json, .nvmrc, .node-version, the
 * Dockerfile and .ci/run.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** Compose's `${NAME:-default}` substitution, as the file writes it. */
const composeVar = (name: string, fallback: string) => `\${${name}:-${fallback}}`;

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Service {
  profiles?: string[];
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: unknown;
  secrets?: unknown;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  working_dir?: string;
  tmpfs?: string[];
}

// `merge`: the Airlock services share their settings through a YAML merge key (<<: *airlock).
const compose = parse(await read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const readme = await read('README.md');

describe('docker-compose.yml: the sandbox profile runs the whole product without Snowflake or Slack', () => {
  const sandbox = compose.services['airlock-sandbox']!;
  const redisDev = compose.services['redis-dev']!;

  it('runs airlock dev from the image on its own Redis, with no .env, no secrets, no Snowflake or Slack settings', () => {
    expect(sandbox.profiles).toEqual(['sandbox']);
    expect(sandbox.image).toBe(compose.services['airlock-api']!.image);
    expect(sandbox.entrypoint).toEqual(['node', '/app/dist/cli/main.js']);
    expect(sandbox.command).toEqual(['dev']);
    expect(sandbox.env_file).toBeUndefined();
    expect(sandbox.secrets).toBeUndefined();
    const names = Object.keys(sandbox.environment ?? {});
    expect(names.filter((n) => n.startsWith('SNOWFLAKE_') || n.startsWith('SLACK_'))).toEqual([]);
    expect(sandbox.environment?.REDIS_URL).toBe('redis://redis-dev:6379');
    expect(sandbox.depends_on).toEqual({ 'redis-dev': { condition: 'service_healthy' } });
    // A read-only root: dev's state (.airlock/) goes to the writable /tmp it runs in.
    expect(sandbox.read_only).toBe(true);
    expect(sandbox.working_dir).toBe('/tmp');
    expect(sandbox.tmpfs).toContain('/tmp');
    // Listening on all interfaces inside, published on the host's loopback 8080 (the sandbox page's origin).
    expect(sandbox.environment?.AIRLOCK_HOST).toBe('0.0.0.0');
    expect(sandbox.environment?.AIRLOCK_PORT).toBe('8080');
    expect(sandbox.ports).toEqual([`${composeVar('SANDBOX_HTTP_PUBLISH', '127.0.0.1:8080')}:8080`]);
  });

  it('publishes a Redis on 127.0.0.1:6379, as the README tells npm start to use, while production Redis stays unpublished', () => {
    expect(redisDev.profiles).toEqual(['sandbox']);
    expect(redisDev.ports).toEqual([`${composeVar('REDIS_DEV_PUBLISH', '127.0.0.1:6379')}:6379`]);
    expect(compose.services.redis!.ports).toBeUndefined();
    expect(readme).toContain('`docker compose --profile sandbox up -d redis-dev`');
    expect(readme).toContain('REDIS_URL=redis://127.0.0.1:6379 npm start');
  });

  it('keeps production services out of the profile, and the README names the profiled services it starts', () => {
    for (const name of ['redis', 'minio', 'minio-init', 'airlock-api', 'airlock-worker']) expect(compose.services[name]!.profiles).toBeUndefined();
    expect(readme).toContain('docker compose --profile sandbox up -d --build airlock-sandbox');
    expect(readme).toContain('docker compose exec airlock-sandbox airlock token');
  });

  it('the image carries the sandbox page that airlock dev serves (tsc does not copy it)', async () => {
    expect(await read('Dockerfile')).toContain('COPY --from=build /app/src/sandbox/page ./dist/sandbox/page');
  });
});

describe('what airlock dev prints points at things that exist', () => {
  it('every README section and docs page named in the banner and start-up errors exists', async () => {
    const sources = (await Promise.all(['src/cli/commands/dev.ts', 'src/app/dev.ts'].map(read))).join('\n');
    const sections = [...sources.matchAll(/README, "([^"]+)"/g)].map((m) => m[1]!);
    const pages = [...sources.matchAll(/\b(docs\/[a-z0-9-]+\.md)/g)].map((m) => m[1]!);
    const services = [...sources.matchAll(/docker compose --profile (\w+) up -d ([\w-]+)/g)].map((m) => ({ profile: m[1]!, service: m[2]! }));
    expect(sections.length + pages.length + services.length).toBeGreaterThan(0);
    for (const section of sections) expect(readme, `README has a "## ${section}" section`).toMatch(new RegExp(`^## ${section}$`, 'm'));
    for (const page of pages) await expect(read(page), `${page} exists`).resolves.toBeTruthy();
    for (const { profile, service } of services) expect(compose.services[service]?.profiles, `compose service ${service}`).toContain(profile);
  });
});

describe('one Node version everywhere', () => {
  it('package.json engines, .nvmrc, .node-version, the Dockerfile and .ci/run agree on Node 22', async () => {
    const pkg = JSON.parse(await read('package.json')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=22.12');
    expect((await read('.nvmrc')).trim()).toBe('22');
    expect((await read('.node-version')).trim()).toBe('22');
    expect(await read('Dockerfile')).toMatch(/^ARG NODE_IMAGE=node:22-bookworm-slim$/m);
    expect(await read('.ci/run')).toMatch(/^CI_NODE_MAJOR=\$\{CI_NODE_MAJOR:-22\}$/m);
  });
});

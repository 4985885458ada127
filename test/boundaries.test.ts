/**
 * Dependencies point inward (STYLE habit 2): the pure core imports no I/O
 * library. Reads the real source files; fails naming the offending import.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const PURE = ['src/policy', 'src/masking', 'src/approvals/machine.ts', 'src/slack/presenters.ts', 'src/slack/presenters', 'src/slack/limits.ts', 'src/audit/events.ts'];
/** An import or re-export of an I/O library; `import type` is allowed (it vanishes at run time: presenters use Slack's block types). */
const FORBIDDEN = /^\s*(?:import|export)(\s+type)?\b[^;]*?from\s+['"](ioredis|bullmq|@slack\/[^'"]+|snowflake-sdk|fastify|@duckdb\/[^'"]+|openid-client|oidc-provider|node:(?:fs|net|http|https|child_process)[^'"]*)['"]/gm;

/** The core's own folders: they declare ports (`ports.ts`) and never import the adapters that implement them. */
const CORE_MAY_NOT_IMPORT: Record<string, string[]> = {
  'src/queries': ['src/queue', 'src/slack', 'src/api'],
  'src/approvals': ['src/queue', 'src/slack', 'src/api'],
};

/**
 * Folder imports that close a cycle today, each with what it is for. Without
 * them the folder graph must be acyclic; the test also fails when one of them
 * is gone (drop it here then).
 */
const KNOWN_BACK_EDGES: Record<string, string> = {};

const RELATIVE_IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm;

/** Relative imports of a file, resolved to paths under the repository root. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(RELATIVE_IMPORT)].map((m) => relative('.', resolve(dirname(file), m[1]!)));
}

/** `src/x/…` → `x`; files directly under src/ are the folder `.`. */
function folderOf(path: string): string {
  const parts = relative('src', path).split('/');
  return parts.length > 1 ? parts[0]! : '.';
}

/** The folders on a cycle, as `a b c` (sorted), one entry per strongly connected group (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        group.push(w);
        if (w === v) break;
      }
      if (group.length > 1) out.push(group.sort().join(' '));
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort();
}

/** `from -> to` for every import between two folders of src/. */
async function folderEdges(): Promise<Set<string>> {
  const edges = new Set<string>();
  for (const file of await tsFiles('src')) {
    for (const target of await importsOf(file)) {
      if (folderOf(target) !== folderOf(file)) edges.add(`${folderOf(file)} -> ${folderOf(target)}`);
    }
  }
  return edges;
}

function graphOf(edges: Iterable<string>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    const [from, to] = edge.split(' -> ') as [string, string];
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  return graph;
}

async function tsFiles(dir: string): Promise<string[]> {
  if (dir.endsWith('.ts')) return [dir];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await tsFiles(path)));
    else if (e.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('module boundaries', () => {
  it('finds the pure modules it guards', async () => {
    for (const dir of PURE) {
      const files = await tsFiles(dir);
      expect(files.length, dir).toBeGreaterThan(0);
      for (const f of files) expect((await readFile(f, 'utf8')).length, f).toBeGreaterThan(0);
    }
  });

  it('keeps I/O libraries out of the pure core', async () => {
    const offenders: string[] = [];
    for (const dir of PURE) {
      for (const file of await tsFiles(dir)) {
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(FORBIDDEN)) if (!m[1]) offenders.push(`${file}: ${m[2]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('reads no wall clock in the query and approval services and stores (they take a Clock)', async () => {
    const offenders: string[] = [];
    for (const dir of ['src/queries', 'src/approvals']) {
      for (const file of await tsFiles(dir)) {
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(/new Date\(\)|Date\.now\(\)/g)) offenders.push(`${file}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('keeps the query and approval core off the adapters (queue/, slack/, api/)', async () => {
    const offenders: string[] = [];
    for (const [dir, forbidden] of Object.entries(CORE_MAY_NOT_IMPORT)) {
      for (const file of await tsFiles(dir)) {
        for (const target of await importsOf(file)) {
          if (forbidden.some((f) => target.startsWith(`${f}/`))) offenders.push(`${file}: ${target}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('has no folder-level import cycle but the known back edges, which still exist', async () => {
    const edges = await folderEdges();
    expect(Object.keys(KNOWN_BACK_EDGES).filter((e) => !edges.has(e))).toEqual([]);
    expect(cycles(graphOf([...edges].filter((e) => !(e in KNOWN_BACK_EDGES))))).toEqual([]);
  });

  it('tells a value import of an I/O library from a type-only one (the check can fail)', () => {
    const hits = (text: string) => [...text.matchAll(FORBIDDEN)].filter((m) => !m[1]).map((m) => m[2]);
    expect(hits("import { App } from '@slack/bolt';\nimport type { types } from '@slack/bolt';\nimport { readFile } from 'node:fs/promises';")).toEqual(['@slack/bolt', 'node:fs/promises']);
    expect(hits("import type { KnownBlock } from '@slack/types';")).toEqual([]);
  });

  it('finds a folder cycle when there is one (the check can fail)', () => {
    expect(cycles(graphOf(['a -> b', 'b -> c', 'c -> a', 'd -> a', 'e -> f', 'f -> e']))).toEqual(['a b c', 'e f']);
    expect(cycles(graphOf(['a -> b', 'b -> c', 'd -> a']))).toEqual([]);
  });
});

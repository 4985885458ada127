/**
 * Reading the policy file from disk: the one place that turns a path into a
 * validated {@link ParsedPolicy}, so the CLI, `airlock serve` and `airlock dev`
 * report a bad policy the same way, with every problem and its path.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.ts';
import { parsePolicy, type ParsedPolicy, type PolicyProblem } from '../policy/schema.ts';
import { sessionDefaultProblems, withSessionDefaults, type SessionNames } from '../policy/session-defaults.ts';
import type { Config } from './env.ts';

/**
 * The shipped policy (`policies/default.yaml` at the package root). Resolved from
 * this module, which sits one folder below the root's `src/` or `dist/`, so the
 * same path works under tsx and after `npm run build`.
 */
export const DEFAULT_POLICY_PATH = fileURLToPath(new URL('../../policies/default.yaml', import.meta.url));

/** Largest policy file read; a policy is a page of YAML, so anything bigger is a mistake. */
const MAX_POLICY_BYTES = 1024 * 1024;

/** The policy path a configuration selects: `AIRLOCK_POLICY`, else the shipped default. */
export function policyPathFrom(config: Pick<Config, 'AIRLOCK_POLICY'>): string {
  return config.AIRLOCK_POLICY ?? DEFAULT_POLICY_PATH;
}

/**
 * Read and validate a policy file.
 *
 * Throws `POLICY_INVALID` when the file cannot be read or is invalid; then
 * `details.problems` holds every {@link PolicyProblem} (path, message, line)
 * and `details.file` the path, so callers can list them all.
 */
export async function loadPolicyFile(path: string = DEFAULT_POLICY_PATH): Promise<ParsedPolicy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'it does not exist'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EISDIR' ? 'it is a directory'
      : `${code ?? 'read error'}`;
    const message = `Cannot read the policy file ${path}: ${why}.`;
    throw new AirlockError('POLICY_INVALID', message, {
      cause: err,
      details: { file: path, problems: [{ path: '', message: `cannot read the file: ${why}` }] satisfies PolicyProblem[] },
    });
  }
  return policyFromBytes(path, bytes);
}

/**
 * Validate a policy file's content, read by the caller (a hot reload reads the
 * file once, hashes it and parses the same bytes). Throws `POLICY_INVALID` as
 * {@link loadPolicyFile} does.
 */
export function policyFromBytes(path: string, bytes: Buffer): ParsedPolicy {
  if (bytes.length > MAX_POLICY_BYTES) {
    throw policyInvalid(path, [{ path: '', message: `the file is ${bytes.length} bytes; a policy file may be at most ${MAX_POLICY_BYTES}` }]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw policyInvalid(path, [{ path: '', message: 'the file is not valid UTF-8 text' }]);
  }
  const result = parsePolicy(text);
  if (!result.ok) throw policyInvalid(path, result.problems);
  return result.policy;
}

/**
 * Load the policy a configuration selects, for process start-up (`airlock serve`,
 * `airlock dev`): `AIRLOCK_POLICY` or the shipped default. Call it before opening
 * any connection so a bad policy stops the process with every problem listed.
 */
export function loadConfiguredPolicy(config: Pick<Config, 'AIRLOCK_POLICY'>): Promise<ParsedPolicy> {
  return loadPolicyFile(policyPathFrom(config));
}

/** `POLICY_INVALID` for the file at `path`, with every problem in `details.problems`. */
export function policyInvalid(path: string, problems: PolicyProblem[]): AirlockError {
  const n = problems.length;
  return new AirlockError('POLICY_INVALID', `The policy file ${path} has ${n} problem${n === 1 ? '' : 's'}.`, {
    details: { file: path, problems },
  });
}

/** One problem for people: `rules[3].match.kind (line 42): unknown kind "dorp"`. */
export function formatPolicyProblem(p: PolicyProblem): string {
  const line = p.line === undefined ? '' : p.path ? ` (line ${p.line})` : `line ${p.line}`;
  const where = `${p.path}${line}`;
  return where ? `${where}: ${p.message}` : p.message;
}

/** Every problem, one per line, in file order as reported. */
export function formatPolicyProblems(problems: readonly PolicyProblem[]): string[] {
  return problems.map(formatPolicyProblem);
}

/** The problems carried by a `POLICY_INVALID` error (empty for any other error). */
export function policyProblemsOf(err: unknown): PolicyProblem[] {
  if (!(err instanceof AirlockError) || err.code !== 'POLICY_INVALID') return [];
  const problems = err.details.problems;
  return Array.isArray(problems) ? (problems as PolicyProblem[]) : [];
}

/**
 * The policy as a process decides with it: the warehouse connection's
 * database and schema as its defaults where it names none, or POLICY_INVALID
 * (listing each disagreement) when it names others (policy/session-defaults.ts).
 */
export function effectivePolicy(policy: ParsedPolicy, session: SessionNames | undefined, where: string): ParsedPolicy {
  if (!session) return policy;
  const problems = sessionDefaultProblems(policy, session);
  if (problems.length > 0) throw policyInvalid(where, problems);
  return withSessionDefaults(policy, session);
}

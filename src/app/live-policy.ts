/**
 * The policy a process decides with, swapped in place when the file changes.
 *
 * Every role holds the policy (the api role decides with it, the worker masks
 * with its catalog, approvals read its approver groups), so every process
 * watches the file itself (`file-watch.ts`: directory events, a poll, SIGHUP).
 * A changed file is validated in full before anything switches; an invalid or
 * unreadable one is rejected with one structured log line and the policy in
 * force stays — a bad edit never leaves a replica without a policy or with
 * half of one. Decisions name the version that made them (`decision.policy`).
 */
import { effectivePolicy, formatPolicyProblems, policyFromBytes, policyProblemsOf } from '../config/policy-file.ts';
import type { Logger } from '../log.ts';
import { createPolicyEngine, type PolicyEngine } from '../policy/engine.ts';
import type { ParsedPolicy } from '../policy/schema.ts';
import type { SessionNames } from '../policy/session-defaults.ts';
import { watchFile, type FileWatch } from './file-watch.ts';

/** The policy in force, and how it changes. */
export interface LivePolicy {
  /** The policy in force now. */
  readonly current: ParsedPolicy;
  /** The engine for {@link current} (each version gets its own decision cache). */
  readonly engine: PolicyEngine;
  /** Called after each swap, with the new policy (parts built from the policy rebuild here). */
  onChange(listener: (policy: ParsedPolicy) => void): void;
  /** Re-read the file now (SIGHUP); resolves once the new policy is in force or rejected. */
  check(): Promise<void>;
  close(): void;
}

/** Where the policy comes from and how often to look again. */
export interface LivePolicyOptions {
  logger: Logger;
  /** The file to watch; absent for a policy given in code (tests, benches), which never changes. */
  file?: string;
  /** Poll fallback in ms (0: directory events and SIGHUP only). */
  pollMs: number;
  /**
   * The warehouse connection's database and schema (SNOWFLAKE_DATABASE /
   * SNOWFLAKE_SCHEMA): they fill the policy's defaults where it names none, and
   * a policy naming others is refused, at start and on every reload
   * (policy/session-defaults.ts).
   */
  session?: SessionNames;
}


/** Hold `initial` and, when a file is named, follow its changes. */
export function livePolicy(initial: ParsedPolicy, options: LivePolicyOptions): LivePolicy {
  const logger = options.logger.child({ component: 'policy' });
  const { session } = options;
  let current = effectivePolicy(initial, session, options.file ?? 'given in code');
  let engine = createPolicyEngine(current);
  const listeners: Array<(policy: ParsedPolicy) => void> = [];

  const swap = (next: ParsedPolicy, file: string) => {
    if (next.version === current.version) {
      logger.debug({ file, version: next.version }, 'policy file rewritten with the same policy');
      return;
    }
    const previous = current.version;
    // The engine first: a decision made after `current` changes must come from the new rules.
    engine = createPolicyEngine(next);
    current = next;
    for (const listener of listeners) listener(next);
    logger.info(
      { event: 'policy_reloaded', file, policy: next.file.name ?? null, version: next.version, previous, rules: next.file.rules.length },
      'policy reloaded',
    );
  };

  const rejected = (file: string, err: unknown) => {
    const problems = formatPolicyProblems(policyProblemsOf(err));
    logger.error(
      {
        event: 'policy_reload_rejected',
        file,
        problems: problems.length > 0 ? problems : [err instanceof Error ? err.message : String(err)],
        version: current.version,
      },
      'policy file rejected; the policy in force stays',
    );
  };

  let watch: FileWatch | undefined;
  const { file } = options;
  if (file) {
    // The initial hash is unknown (the file was read by the caller): the first check compares versions instead.
    watch = watchFile(file, '', {
      pollMs: options.pollMs,
      onChange: async (content) => {
        try {
          swap(effectivePolicy(policyFromBytes(file, content), session, file), file);
        } catch (err) {
          rejected(file, err);
        }
      },
      onUnreadable: (err) =>
        logger.error(
          { event: 'policy_reload_rejected', file, problems: [`cannot read the file: ${err.code ?? err.message}`], version: current.version },
          'policy file unreadable; the policy in force stays',
        ),
    });
    void watch.check();
  }

  return {
    get current() {
      return current;
    },
    get engine() {
      return engine;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    check: () => watch?.check() ?? Promise.resolve(),
    close: () => watch?.close(),
  };
}

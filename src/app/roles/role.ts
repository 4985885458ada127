/**
 * What a role is: a name `airlock serve --roles` accepts, and, once started on
 * the core, something that stops. Roles share one core (adapters + services);
 * any number of replicas of any role can share one Redis.
 */

import type { ReadinessChecks } from '../readiness.ts';

/** The roles a process can run. */
export type Role = 'api' | 'worker' | 'slack';

/** Every role, in the order `airlock serve` lists them. */
export const ALL_ROLES: readonly Role[] = ['api', 'worker', 'slack'];

/** A started part of a role: its listeners or workers, and how they stop. */
export interface Running {
  stop(): Promise<unknown>;
  /** What /readyz should check for this part (the worker: that it can log in to Snowflake). */
  readiness?: ReadinessChecks;
}

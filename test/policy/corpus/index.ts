/** Every corpus case, by theme. */
import { ddlCases } from './ddl.ts';
import { evasionCases } from './evasions.ts';
import { exfiltration } from './exfiltration.ts';
import { privilegeCases } from './privilege.ts';
import { reads } from './reads.ts';
import { sensitive } from './sensitive.ts';
import { sessionCases } from './session.ts';
import type { PolicyCase } from './types.ts';
import { writes } from './writes.ts';

export const THEMES: Record<string, PolicyCase[]> = {
  reads,
  sensitive,
  writes,
  ddl: ddlCases,
  privilege: privilegeCases,
  exfiltration,
  session: sessionCases,
  evasions: evasionCases,
};

export const ALL_CASES: PolicyCase[] = Object.values(THEMES).flat();

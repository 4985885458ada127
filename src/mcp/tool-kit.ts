/**
 * What every tool shares: the argument schemas agents see, turning an answer
 * or an error into a CallToolResult, and progress notifications.
 */
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { asAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { presentError, type ToolAnswer } from './present.ts';

/** A query id as the API accepts it. */
export const queryId = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,100}$/, 'a query id as run_query returned it')
  .describe('The query id that run_query returned.');

/**
 * Run a tool body and shape its answer. Airlock errors become tool errors with
 * their code and sentence; anything else a generic INTERNAL one (its text may
 * hold details that are not the agent's), logged here.
 */
export async function answer(logger: Logger, tool: string, body: () => Promise<ToolAnswer>): Promise<CallToolResult> {
  let result: ToolAnswer;
  try {
    result = await body();
  } catch (err) {
    const error = asAirlockError(err);
    if (error.code === 'INTERNAL') logger.error({ err, tool }, 'MCP tool failed');
    result = presentError(error);
  }
  return {
    content: [{ type: 'text', text: result.text }],
    structuredContent: result.structured,
    ...(result.isError ? { isError: true } : {}),
  };
}

/**
 * A progress reporter for this call, or undefined when the client sent no
 * progress token. Each report resets the client's request timer, so a wait
 * of up to 50 s survives clients that give up on a silent call after 60 s.
 */
export function progressOf(ctx: ServerContext): ((progress: number, total: number, message: string) => Promise<void>) | undefined {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return undefined;
  return async (progress, total, message) => {
    await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress, total, message } }).catch(() => undefined);
  };
}

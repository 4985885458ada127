/**
 * The shapes of the in-memory workspace (`workspace.ts`) and its Web API
 * methods (`methods.ts`): answers, messages, ephemerals, views, files, people.
 */

type Json = Record<string, unknown>;

/** An answer to one Web API call: HTTP status (200 unless said), JSON body, extra headers. */
export interface SlackAnswer {
  status?: number;
  body: Json;
  headers?: Record<string, string>;
}

/** A message as stored after chat.postMessage / chat.update. */
export interface SlackMessage {
  channel: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  /** How many times chat.update replaced it. */
  edits: number;
  /** block_ids a later update reused from the previous version (they should be fresh). */
  reusedBlockIds: string[];
}

/** An ephemeral message: only `user` sees it. */
export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  at: number;
}

/** A modal opened with views.open; `user` is who the trigger was issued to, when known. */
export interface SlackOpenedView {
  trigger_id: string;
  view: Json;
  id: string;
  at: number;
  user?: string;
}

/** A file shared with files.completeUploadExternal. */
export interface SlackFile {
  id: string;
  filename: string;
  title?: string;
  content: string;
  channel?: string;
  thread_ts?: string;
}

/** A member's profile as users.info shows it. */
export interface SlackProfile {
  email?: string;
  name?: string;
  realName?: string;
  isBot?: boolean;
  deleted?: boolean;
}

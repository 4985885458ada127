/**
 * Slack's signed requests for the suites: the builders live in
 * src/sandbox/slack-requests.ts, which the sandbox page sends through too, so
 * tests and the sandbox speak to Airlock's receiver exactly alike.
 */
export {
  blockActionsPayload,
  interactivityBody,
  signSlackRequest,
  signedFormRequest,
  slashCommandBody,
  slashCommandPayload,
  triggerId,
  viewSubmissionPayload,
} from '../../src/sandbox/slack-requests.ts';

// Test support for code that runs against the emulator (the product's tests, this package's own):
// a started sandbox with users, orgs, a webhook receiver and git helpers, and GitHub's published
// webhook schemas (read from this package's test fixtures, only when called).
export {
  startTestSandbox,
  settle,
  liveSandboxes,
  describeViolations,
  type TestSandbox,
  type TestUser,
  type ReceivedWebhook,
  type GitResult,
} from "./harness.js";
export { webhookErrors, webhookSchemas, schemaName, errorsOf, addFormats } from "./webhook-schemas.js";

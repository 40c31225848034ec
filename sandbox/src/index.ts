export { startSandbox, type Sandbox, type SandboxOptions } from "./server.js";
export type { Fault } from "./instrumentation.js";
export type { Delivery } from "./webhooks/queue.js";
export { signWebhookBody } from "./webhooks/queue.js";
export type { ContractViolation } from "./contract/contract.js";
export * from "./testing/index.js";

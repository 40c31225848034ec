/** The Decision and its encoding live in the pure gate (src/core/gate/decision.ts); this keeps the adapters' import path. */
export { decodeDecision, encodeDecision, type Decision } from "../core/gate/decision.js";

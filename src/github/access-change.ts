/**
 * Access-change judgements are pure and live in the core gate (src/core/gate/access-change.ts);
 * src/github/access-events.ts turns them into re-evaluations. This keeps the adapters' import path.
 */
export {
  classifyAccessEvent,
  mayBeStale,
  planAccessWork,
  type AccessChange,
  type AccessEventPayload,
  type AccessWork,
  type AccessWorkLimits,
  type PullVerdictState,
} from "../core/gate/access-change.js";

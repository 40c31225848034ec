/** Check-run rendering is pure and lives in the core gate (src/core/gate/render.ts); this keeps the adapters' import path. */
export {
  CHECK_OUTPUT_LIMIT,
  CHECK_TITLE_LIMIT,
  TRUNCATION_NOTE,
  escapeMarkdown,
  fitOutput,
  renderCheck,
  truncateBytes,
  utf8Prefix,
  type CheckOutput,
} from "../core/gate/render.js";

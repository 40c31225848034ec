/** The fail-closed verdict is pure and lives in the core gate (src/core/gate/error-verdict.ts). */
export { errorVerdict } from "../core/gate/error-verdict.js";

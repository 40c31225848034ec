/** The bounded cache of immutable data is pure and lives in the core gate (src/core/gate/immutable-cache.ts). */
export { ImmutableCache } from "../core/gate/immutable-cache.js";

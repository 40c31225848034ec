/** The CODEOWNERS core: locate the file, parse it, compile it once, ask for owners per path. */
export { CODEOWNERS_LOCATIONS, selectCodeownersFile, selectCodeownersLocation } from "./locate.js";
export type { CodeownersLocation } from "./locate.js";
export { CODEOWNERS_MAX_BYTES, parseCodeowners } from "./parse.js";
export type { ParseOptions } from "./parse.js";
export { CodeownersCompileError, compileCodeowners, compileCodeownersNaive } from "./match.js";
export type { IndexedCodeownersMatcher, OwnersLookup } from "./match.js";
export {
  codeownersPatternMatches,
  compilePattern,
  compilePatternOrThrow,
  InvalidPatternError,
} from "./pattern.js";
export type { CompiledPattern, PatternProblem } from "./pattern.js";
export { classifyOwner } from "./owner.js";
export type { OwnerKind } from "./owner.js";
export type * from "./types.js";

// Bounds of the claims mapping engine: on rule sets (checked once, when a rule set is compiled) and
// on every claim set (checked before anything is evaluated). CEL has no runtime cost limit, so the
// expression bounds are what keeps one evaluation small: at most `maxComprehensionNesting` nested
// loops, each over at most `maxArrayItems` items.

/** Keys that never become properties of an object the engine builds or hands to CEL. */
export const forbiddenKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const valueLimits = {
  /** Nesting of objects and arrays; the claims object itself is level 1. */
  maxDepth: 5,
  maxKeysPerObject: 200,
  maxArrayItems: 500,
  /** UTF-8 bytes of one string (values and keys). */
  maxStringBytes: 8 * 1024,
  /** Whole claim set (or whole canonical claim set), as JSON. */
  maxTotalBytes: 256 * 1024,
} as const;

export const expressionLimits = {
  /** The schema caps expressions at 2000 characters too; repeated here so the engine stands alone. */
  maxLength: 2000,
  /** Passed to the CEL parser (@marcbachmann/cel-js `limits`). */
  parser: { maxAstNodes: 500, maxDepth: 32, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 },
  /** map / filter / all / exists / exists_one inside the body of another one: at most this deep. */
  maxComprehensionNesting: 2,
  /**
   * Worst-case steps of one expression (cel.ts estimateCost), with comprehension ranges bounded by
   * `maxRangeItems` (a claim list) or the table's size. 2.5 M steps is ~0.1–0.2 s here: two
   * nested loops over 500 items with a few constant-time operations fit; a join() inside them
   * does not.
   */
  maxEstimatedCost: 2_500_000,
  maxRangeItems: 500,
  linearCallCost: 100,
  /** `matches()` patterns: literal, anchored, and backtracking bounded (see cel.ts). */
  maxRegexLength: 256,
  maxRegexBacktrackFactor: 64,
} as const;

/** `orig_sub` (the subject expression's value). */
export const maxSubjectLength = 256;

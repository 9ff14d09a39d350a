// docs/operators/configuration-reference.md is generated from the schemas' .describe() texts
// (`npm run docs:config`); this keeps the committed page from drifting from the code.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referencePath, renderReference } from '../../../src/config/write-reference.ts';

const root = resolve(import.meta.dirname, '../../..');

describe('configuration reference', () => {
  const page = renderReference();

  it('equals what `npm run docs:config` writes now', () => {
    expect(readFileSync(resolve(root, referencePath), 'utf8'), `${referencePath} is stale: run npm run docs:config`).toBe(page);
  });

  it('documents every key with its default, nested keys included', () => {
    expect(page).toMatch(/^\| `listen\.port` \| integer \(0–65535\) \| `8080` \| TCP port; .+ \|$/m);
    expect(page).toMatch(/^\| `client_id` \(required\) \| string \| {2}\| The client identifier\. \|$/m);
    // Every row has a description: a key without .describe() would be a silent gap.
    const blank = page.split('\n').filter((line) => /^\| `/.test(line) && /\| *\|$/.test(line));
    expect(blank).toEqual([]);
  });
});

// The group commit's observer (metrics): told each batch's size once its transaction ends, failed
// batches too; an observer that throws never stops the writer.
import { expect, it } from 'vitest';
import { createGroupCommit } from '../../../src/store/group-commit.ts';

it('reports each batch: its size and time, a failed one too', async () => {
  const seen: { size: number; seconds: number }[] = [];
  let fail = false;
  const commit = createGroupCommit((items: number[]) => {
    if (fail) throw new Error('disk full');
    return items.map((i) => i * 2);
  }, 512, (size, seconds) => seen.push({ size, seconds }));
  expect(await Promise.all([1, 2, 3, 4, 5].map(commit))).toEqual([2, 4, 6, 8, 10]);
  fail = true;
  await expect(Promise.all([commit(1), commit(2)])).rejects.toThrow('disk full');
  expect(seen.map((s) => s.size)).toEqual([5, 2]);
  expect(seen.every((s) => s.seconds >= 0)).toBe(true);
});

it('an observer that throws does not stop later batches', async () => {
  const commit = createGroupCommit((items: number[]) => items, 512, () => {
    throw new Error('metrics broke');
  });
  expect(await commit(1)).toBe(1);
  expect(await Promise.all([commit(2), commit(3)])).toEqual([2, 3]);
});

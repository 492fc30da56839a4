import test from 'ava';
import { reciprocalRankFusion } from '../../rag/retrieve/rrf.ts';
import { fromPgVector, toPgVector } from '../../db/vector.ts';

const item = (id: string, score: number) => ({ id, score });

test('fuses two legs by reciprocal rank, keeping each leg rank and score', (t) => {
  const fused = reciprocalRankFusion({
    dense: [item('a', 0.91), item('b', 0.85), item('c', 0.8)],
    lexical: [item('c', 12.5), item('a', 7.25), item('d', 3)],
  });
  t.deepEqual(
    fused.map(({ id, score, legs }) => ({ id, score, legs })),
    [
      { id: 'a', score: 1 / 61 + 1 / 62, legs: { dense: { rank: 1, score: 0.91 }, lexical: { rank: 2, score: 7.25 } } },
      { id: 'c', score: 1 / 63 + 1 / 61, legs: { dense: { rank: 3, score: 0.8 }, lexical: { rank: 1, score: 12.5 } } },
      { id: 'b', score: 1 / 62, legs: { dense: { rank: 2, score: 0.85 } } },
      { id: 'd', score: 1 / 63, legs: { lexical: { rank: 3, score: 3 } } },
    ],
  );
});

test('uses the given k and limit', (t) => {
  const fused = reciprocalRankFusion(
    { dense: [item('a', 1), item('b', 0.5)], lexical: [item('b', 2)] },
    { k: 1, limit: 1 },
  );
  t.deepEqual(
    fused.map(({ id, score }) => ({ id, score })),
    [{ id: 'b', score: 1 / 3 + 1 / 2 }],
  );
});

test('weights a leg', (t) => {
  const fused = reciprocalRankFusion({ dense: [item('a', 1)], lexical: [item('b', 1)] }, { weights: { lexical: 2 } });
  t.deepEqual(
    fused.map(({ id, score }) => ({ id, score })),
    [
      { id: 'b', score: 2 / 61 },
      { id: 'a', score: 1 / 61 },
    ],
  );
});

test('breaks ties by best rank, then by first appearance', (t) => {
  const fused = reciprocalRankFusion({ dense: [item('x', 1), item('y', 1)], lexical: [item('y', 1), item('x', 1)] });
  t.deepEqual(
    fused.map((result) => result.id),
    ['x', 'y'],
  );
});

test('counts a repeated id once per leg, at its best rank', (t) => {
  const fused = reciprocalRankFusion({ dense: [item('a', 0.9), item('a', 0.1), item('b', 0.5)] });
  t.deepEqual(
    fused.map(({ id, score, legs }) => ({ id, score, legs })),
    [
      { id: 'a', score: 1 / 61, legs: { dense: { rank: 1, score: 0.9 } } },
      { id: 'b', score: 1 / 63, legs: { dense: { rank: 3, score: 0.5 } } },
    ],
  );
});

test('keeps the item of the first leg that returned it', (t) => {
  const [first] = reciprocalRankFusion({
    dense: [{ id: 'a', score: 1, title: 'from dense' }],
    lexical: [{ id: 'a', score: 5, title: 'from lexical' }],
  });
  t.is(first?.item.title, 'from dense');
});

test('an empty input fuses to nothing', (t) => {
  t.deepEqual(reciprocalRankFusion({ dense: [], lexical: [] }), []);
});

test('writes and reads pgvector text form', (t) => {
  t.is(toPgVector([1, -0.5, 0.25]), '[1,-0.5,0.25]');
  t.deepEqual(fromPgVector('[1,-0.5,0.25]'), [1, -0.5, 0.25]);
  t.throws(() => toPgVector([1, Number.NaN]), { instanceOf: RangeError });
  t.throws(() => toPgVector([]), { instanceOf: RangeError });
});

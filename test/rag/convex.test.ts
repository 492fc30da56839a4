import test from 'ava';
import { convexFusion } from '../../rag/retrieve/convex.ts';

const item = (id: string, score: number) => ({ id, score });

test('fuses min-max normalised scores with equal weights, keeping each leg rank and score', (t) => {
  const fused = convexFusion({
    dense: [item('a', 0.9), item('b', 0.8), item('c', 0.5)],
    lexical: [item('c', 20), item('a', 11), item('d', 2)],
  });
  // dense normalised: a 1, b 0.75, c 0; lexical: c 1, a 0.5, d 0.
  t.deepEqual(
    fused.map(({ id, score, legs }) => ({ id, score: Number(score.toFixed(6)), legs })),
    [
      { id: 'a', score: 0.75, legs: { dense: { rank: 1, score: 0.9 }, lexical: { rank: 2, score: 11 } } },
      { id: 'c', score: 0.5, legs: { dense: { rank: 3, score: 0.5 }, lexical: { rank: 1, score: 20 } } },
      { id: 'b', score: 0.375, legs: { dense: { rank: 2, score: 0.8 } } },
      { id: 'd', score: 0, legs: { lexical: { rank: 3, score: 2 } } },
    ],
  );
});

test('keeps how far apart a leg’s scores are, where rank fusion keeps only their order', (t) => {
  // The lexical leg is sure of x; the dense leg barely prefers y. RRF would tie them.
  const fused = convexFusion({
    dense: [item('y', 0.81), item('x', 0.8), item('z', 0.2)],
    lexical: [item('x', 30), item('y', 3), item('z', 2)],
  });
  t.is(fused[0]!.id, 'x');
});

test('weights the legs as asked, and a list of equal scores counts as all best', (t) => {
  const lists = { dense: [item('a', 0.7), item('b', 0.2)], lexical: [item('b', 5), item('c', 5)] };
  t.deepEqual(
    convexFusion(lists, { weights: { dense: 0.8, lexical: 0.2 } }).map(({ id, score }) => [
      id,
      Number(score.toFixed(6)),
    ]),
    [
      ['a', 0.8],
      ['b', 0.2],
      ['c', 0.2],
    ],
  );
  t.deepEqual(
    convexFusion({ dense: [item('only', 0.3)] }).map(({ id, score }) => [id, score]),
    [['only', 1]],
  );
});

test('counts a repeated id once per leg, at its best place, and applies the limit', (t) => {
  const fused = convexFusion({ dense: [item('a', 0.9), item('a', 0.1), item('b', 0.5)] }, { limit: 1 });
  t.deepEqual(
    fused.map(({ id, score, legs }) => ({ id, score, legs })),
    [{ id: 'a', score: 1, legs: { dense: { rank: 1, score: 0.9 } } }],
  );
  t.deepEqual(convexFusion({ dense: [], lexical: [] }), []);
});

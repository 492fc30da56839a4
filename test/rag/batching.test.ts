import test from 'ava';
import { estimateTokens, planBatches, splitByTokens } from '../../rag/embed/batching.ts';
import { retryAfterMs } from '../../rag/provider/retry-after.ts';

test('estimates four ascii characters per token and one per other character', (t) => {
  t.is(estimateTokens(''), 0);
  t.is(estimateTokens('abcd'), 1);
  t.is(estimateTokens('abcde'), 2);
  t.is(estimateTokens('日本語'), 3);
});

test('packs consecutive inputs within the input and token limits', (t) => {
  const limits = { maxInputsPerRequest: 3, maxTokensPerRequest: 10, maxTokensPerInput: 10 };
  t.deepEqual(planBatches([1, 1, 1, 1, 9, 2, 9, 10], limits), [
    [0, 3],
    [3, 5],
    [5, 6],
    [6, 7],
    [7, 8],
  ]);
  t.deepEqual(planBatches([], limits), []);
});

test('cuts a long text into pieces within the budget that join back to it', (t) => {
  const text = 'alpha beta gamma delta epsilon zeta eta theta iota kappa';
  const pieces = splitByTokens(text, 3);
  t.is(pieces.join(''), text);
  t.true(pieces.every((piece) => estimateTokens(piece) <= 3));
  t.deepEqual(pieces.slice(0, 2), ['alpha beta ', 'gamma delta ']);
  t.deepEqual(splitByTokens('short', 100), ['short']);
});

test('never splits a surrogate pair', (t) => {
  const pieces = splitByTokens('😀😀😀', 1);
  t.deepEqual(pieces, ['😀', '😀', '😀']);
});

test('reads Retry-After as seconds, as a date, or as retry-after-ms', (t) => {
  const now = Date.parse('2025-03-04T09:30:00Z');
  t.is(retryAfterMs(new Headers({ 'retry-after': '1' }), now), 1000);
  t.is(retryAfterMs(new Headers({ 'retry-after': '0.5' }), now), 500);
  t.is(retryAfterMs(new Headers({ 'retry-after': 'Tue, 04 Mar 2025 09:30:20 GMT' }), now), 20_000);
  t.is(retryAfterMs(new Headers({ 'retry-after': 'Tue, 04 Mar 2025 09:29:00 GMT' }), now), 0);
  t.is(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now), 250);
  t.is(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now), undefined);
  t.is(retryAfterMs(new Headers(), now), undefined);
  t.is(retryAfterMs(undefined, now), undefined);
});

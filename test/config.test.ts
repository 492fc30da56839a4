// config.ts, the only reader of the environment: the one default address of Temporal.
import test from 'ava';
import { loadConfig, temporalAddressOf } from '../config.ts';

test('reaches Temporal at TEMPORAL_ADDRESS when it is set', (t) => {
  t.is(temporalAddressOf(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_PORT: '7300' })), 'temporal:7233');
});

test('reaches the embedded dev server on this machine when TEMPORAL_ADDRESS is unset or empty', (t) => {
  t.is(temporalAddressOf(loadConfig({})), '127.0.0.1:7233');
  t.is(temporalAddressOf(loadConfig({ TEMPORAL_ADDRESS: '' })), '127.0.0.1:7233');
  t.is(temporalAddressOf(loadConfig({ TEMPORAL_PORT: '7300' })), '127.0.0.1:7300');
});

test('BM25 parameters default to Anserini’s and refuse values outside their range, naming the setting', (t) => {
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash' }), { BM25_K1: 0.9, BM25_B: 0.4 });
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_K1: '1.2', BM25_B: '0.75' }), { BM25_K1: 1.2, BM25_B: 0.75 });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_B: '1.5' }), { message: /BM25_B/ });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_K1: '-1' }), { message: /BM25_K1/ });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_K1: 'many' }), { message: /BM25_K1/ });
});

test('hybrid fusion defaults to an equal-weight convex combination and takes rrf', (t) => {
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash' }), { HYBRID_FUSION: 'convex', HYBRID_DENSE_WEIGHT: 0.5 });
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', HYBRID_FUSION: 'rrf' }), { HYBRID_FUSION: 'rrf' });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', HYBRID_FUSION: 'max' }), { message: /HYBRID_FUSION/ });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', HYBRID_DENSE_WEIGHT: '1.1' }), {
    message: /HYBRID_DENSE_WEIGHT/,
  });
});

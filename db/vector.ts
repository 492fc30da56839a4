import pgvector from 'pgvector';

/** A vector in pgvector's text form ('[1,2,3]'), to bind as a parameter cast with `::vector`. */
export function toPgVector(vector: readonly number[]): string {
  if (vector.length === 0 || !vector.every(Number.isFinite)) {
    throw new RangeError('a pgvector value needs at least one finite number and nothing else');
  }
  return pgvector.toSql([...vector]) as string;
}

/** Parses pgvector's text form back into numbers. */
export function fromPgVector(text: string): number[] {
  const value = pgvector.fromSql(text);
  if (!Array.isArray(value)) throw new RangeError('not a dense pgvector value');
  return value;
}

// 32-bit FNV-1a over UTF-16 code units, finished with MurmurHash3's fmix32 avalanche so that
// both the low bits (bucket) and the top bit (sign) are well mixed.

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The bucket (in `[0, dimensions)`) and sign (±1) of a feature under signed feature hashing. */
export function hashFeature(feature: string, dimensions: number): { bucket: number; sign: 1 | -1 } {
  const hash = fmix32(fnv1a32(feature));
  return { bucket: hash % dimensions, sign: hash & 0x80000000 ? -1 : 1 };
}

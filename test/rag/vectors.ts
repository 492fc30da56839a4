export const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
export const norm = (a: readonly number[]) => Math.sqrt(dot(a, a));

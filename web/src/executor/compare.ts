// Workloads/Verification/TensorComparison.RelativeL2: ||a − b|| / max(||a||, ||b||), sums in double; 0 for two zero
// vectors, +∞ for different lengths or a non-finite value.
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return Infinity;
    diff += (x - y) * (x - y);
    na += x * x;
    nb += y * y;
  }
  if (diff === 0) return 0;
  return Math.sqrt(diff) / Math.sqrt(Math.max(na, nb));
}

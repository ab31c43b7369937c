// The pool's JSON writes uint64 seeds (JobSpec.Seed, ShardPlan.Seed, SyntheticDatasetSpec.Seed) as plain numbers;
// JSON.parse would round any above 2^53 to the nearest double and the shard would train on other batches. This
// parse keeps every "seed" integer of 16 digits or more as its decimal string, which the executor reads exactly.
const LongSeed = /"seed"(\s*):(\s*)(\d{16,})/g;

export function parsePoolJson<T = unknown>(text: string): T {
  return JSON.parse(text.replace(LongSeed, '"seed"$1:$2"$3"')) as T;
}

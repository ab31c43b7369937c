// Workloads/Models/ModelInitializer ported: tensor t of the layout draws from its own stream Derive(seed, t);
// weights and biases uniform in ±1/sqrt(fan-in), LayerNorm 1 and 0, embeddings standard normal.
import { DeterministicRandom, toU64, type Seed } from "./random.js";
import { layout, parameterCount, type Model } from "./models.js";

export function initializeWeights(m: Model, seed: Seed): Float32Array {
  const jobSeed = toU64(seed);
  const weights = new Float32Array(parameterCount(m));
  layout(m).forEach((tensor, t) => {
    const span = weights.subarray(tensor.offset, tensor.offset + tensor.size);
    const random = new DeterministicRandom(DeterministicRandom.derive(jobSeed, t));
    switch (tensor.init) {
      case "ones":
        span.fill(1);
        break;
      case "zeros":
        span.fill(0);
        break;
      case "normal":
        for (let i = 0; i < span.length; i++) span[i] = random.nextGaussian();
        break;
      case "uniform": {
        const bound = tensor.fanIn > 0 ? 1.0 / Math.sqrt(tensor.fanIn) : 0.0;
        for (let i = 0; i < span.length; i++) span[i] = (2 * random.nextDouble() - 1) * bound;
        break;
      }
    }
  });
  return weights;
}

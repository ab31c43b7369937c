// The browser class's tolerances (relative L2), the same values as ToleranceOptions.BrowserTrain/BrowserInfer on the
// C# side (Workloads/Verification/ToleranceOptions.cs) and docs/VERIFICATION.md, "browser", where the measurements
// they come from are. The JS golden tests hold the executor to them against TorchSharp's results.
export const BrowserTolerance = {
  train: 1e-3,
  infer: 1e-4,
} as const;

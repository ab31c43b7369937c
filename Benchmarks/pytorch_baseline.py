"""PyTorch baseline for benchmark row 7: the same models, batch sizes and plain SGD as the row, idiomatic PyTorch.

Data resident on the device, batch indices drawn once and gathered there, no per-step synchronisation (the loss is
summed on the device and read once), fp32 with TF32 off (what the pool's cross-class audits compare). Prints one
line per case: model, batch, samples/s. Run by the GPU bundle's run.sh (scripts/gpu-bundle.sh); it runs on the CPU
too, for a comparison on the same cores. Needs only torch.
"""
import time

import torch
from torch import nn
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Transformer(nn.Module):
    """32 tokens, d 64, 4 heads, 2 layers, feed-forward 256, mean-pooled into 10 classes (row 7's transformer)."""

    def __init__(self, vocab=1000, length=32, dim=64, heads=4, layers=2, ff=256, classes=10):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.zeros(length, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, ff, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens) + self.position).mean(dim=1))


def cases():
    mlp = lambda: nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    cnn = lambda: nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    images = lambda n: torch.randn(n, 1, 28, 28)
    yield "MLP 784-512-512-10", mlp, lambda n: torch.randn(n, 784), 256, 200
    yield "MLP 784-512-512-10", mlp, lambda n: torch.randn(n, 784), 4096, 15
    yield "CNN 1x28x28, conv 8-16, k3", cnn, images, 256, 60
    yield "CNN 1x28x28, conv 8-16, k3", cnn, images, 4096, 6
    yield "transformer 32 tokens, d 64, 2 layers", Transformer, lambda n: torch.randint(0, 1000, (n, 32)), 256, 30
    yield "transformer 32 tokens, d 64, 2 layers", Transformer, lambda n: torch.randint(0, 1000, (n, 32)), 4096, 3


def samples_per_second(make, inputs, batch, steps, samples=8192, bf16=False):
    torch.manual_seed(1)
    model = make().to(device)
    data = inputs(samples).to(device)
    labels = torch.randint(0, 10, (samples,), device=device)
    schedule = torch.randint(0, samples, (steps, batch), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

    def run(count):
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        for step in range(count):
            rows = schedule[step]
            # bf16: autocast with float32 master weights, what the executor's precision "bf16" does by hand.
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(model(data.index_select(0, rows)), labels.index_select(0, rows))
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach()
        return loss_sum.item()  # the one synchronisation

    run(1)  # warm-up: kernels chosen, memory allocated
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        run(steps)
        best = max(best, steps * batch / (time.perf_counter() - started))
    return best


if __name__ == "__main__":
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"PyTorch {torch.__version__} on {name}, fp32, TF32 off, data resident, one sync per run, best of 3")
    for label, make, inputs, batch, steps in cases():
        print(f"{label}\tbatch {batch}\t{samples_per_second(make, inputs, batch, steps):,.0f} samples/s", flush=True)
    if device.type == "cuda":
        # Row 7's bf16 case: the issue's target is bf16 >= 5x fp32 on this MLP at batch 4,096.
        label, make, inputs, batch, steps = next(c for c in cases() if c[0].startswith("MLP") and c[3] == 4096)
        print(f"{label}\tbatch {batch}\tbf16 autocast\t{samples_per_second(make, inputs, batch, steps, bf16=True):,.0f} samples/s", flush=True)

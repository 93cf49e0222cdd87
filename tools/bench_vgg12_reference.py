"""The reference for benches/vgg12.rs: the same VGG-12 in PyTorch, timing one training step.

The network is quakelab's default (`classify::Vgg12Config::default()`): four blocks of 3x3
convolutions (padding 1) with 32/64/128/256 filters and 2/2/3/3 convolutions, each followed by
a ReLU, a 2x2 max-pooling after each block, then dropout 0.5, a fully connected layer of 256
units with ReLU, dropout 0.5 and the 5-way output. One step is a forward pass in training mode,
the cross-entropy, the backward pass and an Adam update (lr 1e-4, eps 1e-8), on a batch of 16
one-channel images uniform in [0, 1], float32, torch threads = 2 (the development machine's
cores). For each image side (default 64 and 480): one warm-up step, then REPEATS timed steps;
prints images per second (the median step) per side.

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 numpy. Run:
venv/bin/python tools/bench_vgg12_reference.py [SIDE...] (tools/bench-vgg12.sh runs it).
"""

import statistics
import sys
import time

import torch
from torch import nn

BATCH = 16
REPEATS = 3
FILTERS = (32, 64, 128, 256)
CONVS = (2, 2, 3, 3)
HIDDEN = 256
CLASSES = 5


def vgg12(side):
    layers = []
    channels = 1
    for filters, convs in zip(FILTERS, CONVS):
        for _ in range(convs):
            layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU()]
            channels = filters
        layers.append(nn.MaxPool2d(2))
    flattened = channels * (side // 16) ** 2
    layers += [
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(flattened, HIDDEN),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(HIDDEN, CLASSES),
    ]
    return nn.Sequential(*layers)


def images_per_second(side):
    torch.manual_seed(0)
    model = vgg12(side).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    images = torch.rand(BATCH, 1, side, side)
    labels = torch.arange(BATCH) % CLASSES

    def step():
        optimiser.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimiser.step()

    step()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return BATCH / seconds, seconds


def main():
    torch.set_num_threads(2)
    sides = [int(s) for s in sys.argv[1:]] or [64, 480]
    for side in sides:
        ips, seconds = images_per_second(side)
        print(
            f"pytorch {torch.__version__} VGG-12 {side}x{side}: {ips:.2f} images/s "
            f"({seconds:.3f} s per step of {BATCH}, {torch.get_num_threads()} threads)"
        )


if __name__ == "__main__":
    main()

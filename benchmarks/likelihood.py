"""One likelihood table: the test-set NLL of trained runs beside the published anchors,
with the wall time each run took to train and the time to sample images from it.

    python benchmarks/likelihood.py runs/001-mnist-pixelcnn runs/002-mnist-pixelcnn-binary runs/003-mnist-vae \\
        [--iwae-k 50] [-n 10000] [--sample 100] [--threads 2]

For every run: ``ganforge.eval.likelihood.nll`` on the MNIST test set (exact for a PixelCNN,
the IWAE bound for a VAE, no number for a GAN), the training wall time (the last
``time_s`` of its metrics.jsonl), and the seconds to sample ``--sample`` images (batched,
one batch), extrapolated linearly to 10,000 (a PixelCNN costs H*W network passes per batch,
so the time is linear in the number of batches; the extrapolation says so). Also prints
the process CPU seconds, since on a shared machine the wall time depends on the neighbours.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

#: Published test NLLs on MNIST (docs/pixelcnn.md says where each comes from and which binarisation).
ANCHORS = [
    ("PixelCNN (van den Oord et al. 2016a, Table 4)", "binarised (fixed, S&M 2008)", "81.30", "exact"),
    ("Row LSTM PixelRNN (same table)", "binarised (fixed, S&M 2008)", "80.54", "exact"),
    ("Diagonal BiLSTM PixelRNN, 7 layers (same table)", "binarised (fixed, S&M 2008)", "79.20", "exact"),
    ("VAE, 1 stochastic layer (Burda et al. 2016, Table 1)", "binarised (dynamic)", "86.76", "IWAE k=5000 estimate"),
    ("IWAE k=50, 1 stochastic layer (same table)", "binarised (dynamic)", "84.78", "IWAE k=5000 estimate"),
]


def train_seconds(run: Path) -> float | None:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    times = [r["time_s"] for r in rows if "time_s" in r]
    return times[-1] if times else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--iwae-k", type=int, default=50)
    ap.add_argument("-n", type=int, default=10000, help="test images (default: all 10,000)")
    ap.add_argument("--sample", type=int, default=100, help="images sampled (in one batch) to time sampling")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from ganforge.eval.likelihood import nll, table
    from ganforge.sampling import load_sampler

    results, timings = [], []
    for run in args.runs:
        cpu0 = time.process_time()
        results += nll(run, n=args.n, k=args.iwae_k)
        nll_cpu = time.process_time() - cpu0
        sampler = load_sampler(run)
        t0, cpu0 = time.perf_counter(), time.process_time()
        sampler.sample(args.sample, seed=0, batch_size=args.sample)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        timings.append((run.name, train_seconds(run), wall, cpu, nll_cpu))

    print(table(results))
    print()
    print(f"{'published anchor':<52} {'data':<28} {'nats/image':>10}  estimator")
    for name, data, nats, est in ANCHORS:
        print(f"{name:<52} {data:<28} {nats:>10}  {est}")
    print()
    print(f"{'run':<34} {'train wall s':>12} {f'sample {args.sample} s':>14} {'-> 10,000 s (x' + str(10000 // args.sample) + ')':>20}"
          f" {'sample CPU s':>12} {'NLL CPU s':>10}")
    for name, tr, wall, cpu, nll_cpu in timings:
        tr_s = f"{tr:.0f}" if tr is not None else "-"
        print(f"{name:<34} {tr_s:>12} {wall:>14.1f} {wall * 10000 / args.sample:>20.0f} {cpu:>12.1f} {nll_cpu:>10.1f}")


if __name__ == "__main__":
    main()

"""Training throughput: ganforge's loop vs the textbook loop, same models, same run.

The reference is how most tutorials write it: a per-item ``Dataset`` whose
``__getitem__`` turns one image into a PIL image, then a float tensor, and normalises it,
a shuffled ``DataLoader``, and ``.item()`` on the losses every step, and ``torch.optim.Adam`` as constructed in
tutorials. Both train the ``mnist-mlp`` preset's G and D with the same batch size and the
same optimizer algorithm and hyper-parameters.

    python benchmarks/train_throughput.py [--steps 300] [--rounds 3] [--threads 2] [--bf16] [--profile]
    python benchmarks/train_throughput.py --device cuda --profile   # the same table on a GPU

The textbook's D draws its dropout masks with ``nn.Dropout``. Prints steady-state img/s
(real images seen by D per second, after 20 warm-up steps) for both and their ratio; ours
with ``task.reuse_fake`` (one G forward per step, reused by both updates, as the reference
loop and the PyTorch DCGAN example do) and without, with ``nn.Dropout`` and with
``FastDropout`` (the same Bernoulli masks drawn from cheaper random words; the preset's
``model.dropout_masks=fast``), and with the fully connected products by oneDNN instead of
torch's default (MKL's sgemm): the same products, another library's kernels. The preset's
``model.matmul=auto`` takes oneDNN on AMD CPUs and MKL elsewhere; the row it picks on this
machine says "(the preset here)". ``--profile`` adds where a step's time
goes (torch.profiler, self CPU time per op) and the fraction of this CPU's measured fp32
matrix-multiply peak that the loop reaches (the matmul FLOPs the profiler counts per
step, divided by the step time, over the GFLOP/s of a large square matmul by the faster of
torch's ``@`` and oneDNN). With ``--device cuda`` both loops run on the GPU (the textbook's
batches moved there one by one), oneDNN's row is left out (a CPU library), and the profile
counts GPU kernel time against a large fp32 product on the GPU (TF32 off: true fp32).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ganforge.data.mnist import load_mnist
from ganforge.models import build_discriminator, build_generator
from ganforge.models.layers import resolve_matmul
from ganforge.presets import preset_config
from ganforge.training import train

WARMUP = 20  # steps before the clock starts (first-call overheads, the DataLoader's start)


class PerItemMNIST(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST + Compose([ToTensor(), Normalize((0.5,), (0.5,)))]) does
    per item (torchvision itself cannot be installed beside this torch): uint8 -> PIL image
    -> float tensor in [0,1] -> normalised to [-1,1]."""

    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = Image.fromarray(self.images[i])  # as torchvision's MNIST.__getitem__
        x = torch.from_numpy(np.array(img, np.uint8)).float().div(255.0)  # ToTensor
        return (x - 0.5) / 0.5  # Normalize((0.5,), (0.5,))


def reference_loop(cfg, images, steps: int, device: str = "cpu", warmup: int = WARMUP) -> float:
    """img/s of the textbook loop over ``steps`` steps after ``warmup`` steps (the first
    batches pay for starting the DataLoader and the allocator)."""
    torch.manual_seed(0)
    model = replace(cfg.model, dropout_masks="torch", matmul="torch")  # the textbook's nn.Dropout and nn.Linear
    G = build_generator(model, (1, 28, 28), 0, "tanh").to(device)
    D = build_discriminator(model, (1, 28, 28), 0).to(device)
    # The textbook optimizers: same algorithm and hyper-parameters, torch's default implementation.
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.task.g_optim.lr, betas=cfg.task.g_optim.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.task.d_optim.lr, betas=cfg.task.d_optim.betas)
    loader = torch.utils.data.DataLoader(PerItemMNIST(images), batch_size=cfg.train.batch_size, shuffle=True,
                                         drop_last=True)
    bs, done, total = cfg.train.batch_size, 0, warmup + steps
    t0 = time.perf_counter()
    while done < total:
        for real in loader:
            real = real.unsqueeze(1).to(device)
            ones, zeros = torch.ones(bs, device=device), torch.zeros(bs, device=device)
            fake = G(torch.randn(bs, cfg.model.z_dim, device=device))
            d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + \
                F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            d_loss.item(), g_loss.item()  # the usual per-step logging
            done += 1
            if done == warmup:
                t0 = time.perf_counter()
            if done >= total:
                break
    return steps * bs / (time.perf_counter() - t0)


def timed_train(cfg, steps: int, tmp: str) -> float:
    cfg = cfg.override({"train.steps": steps, "train.sample_every": 10**9, "train.checkpoint_every": 10**9})
    t0 = time.perf_counter()
    train(cfg, runs_root=tmp, quiet=True)
    return time.perf_counter() - t0


def ours(cfg, steps: int, tmp: str, warmup: int = WARMUP) -> tuple[float, float]:
    """img/s of ``train()`` in its steady state, and its fixed cost per run in seconds: a run
    of ``warmup`` steps and one of ``warmup + steps``; their difference is ``steps`` steps
    without the set-up (loading the data, the run directory, the final checkpoint, grid and
    loss plot), which the textbook loop does not do."""
    short = timed_train(cfg, warmup, tmp)
    long = timed_train(cfg, warmup + steps, tmp)
    step_s = (long - short) / steps
    return cfg.train.batch_size / step_s, short - warmup * step_s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of all loops in turn (median reported)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch-size", type=int, default=0)
    ap.add_argument("--bf16", action="store_true", help="also time our loop with bf16 autocast")
    ap.add_argument("--profile", action="store_true", help="also profile one step and compare with the matmul peak")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda: both loops on the GPU")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gpu = args.device.startswith("cuda")
    if gpu and not torch.cuda.is_available():
        print("--device cuda: this torch sees no CUDA device; run it on a GPU machine, or leave --device out", file=sys.stderr)
        raise SystemExit(2)
    # The reference's maths: no EMA of G (the preset's EMA is one lerp per parameter per step).
    cfg = preset_config("mnist-mlp").override({"train.threads": args.threads, "task.ema": 0.0,
                                               "train.device": args.device})
    if args.batch_size:
        cfg = cfg.override({"train.batch_size": args.batch_size})
    images, _ = load_mnist("train")
    import tempfile

    torch_masks = {"model.dropout_masks": "torch", "model.matmul": "torch"}
    fast_masks = {"task.reuse_fake": True, "model.dropout_masks": "fast", "model.matmul": "torch"}
    onednn = {**fast_masks, "model.matmul": "onednn"}
    preset = {**fast_masks, "model.matmul": "auto"}  # the preset's step
    here = "torch" if gpu else resolve_matmul("auto")  # fully connected layers use torch's on a GPU
    variants = [("ganforge, fresh z for the G step, nn.Dropout", {"task.reuse_fake": False, **torch_masks}),
                ("ganforge, reuse_fake, nn.Dropout", {"task.reuse_fake": True, **torch_masks}),
                ("ganforge, reuse_fake, FastDropout, MKL" + " (the preset here)" * (here == "torch"), fast_masks),
                ("ganforge, reuse_fake, FastDropout, oneDNN" + " (the preset here)" * (here == "onednn"), onednn)]
    if gpu:
        variants = [(name.replace(", MKL", ", torch's products"), o) for name, o in variants if "oneDNN" not in name]
    if args.bf16:
        variants.append(("ganforge, reuse_fake, FastDropout, bf16 autocast", {**preset, "train.bf16": True}))
    loops = [("reference (per-item Dataset + DataLoader)",
              lambda tmp: (reference_loop(cfg, images, args.steps, device=args.device), None))]
    loops += [(name, lambda tmp, o=o: ours(cfg.override(o), args.steps, tmp)) for name, o in variants]
    # Rounds of every loop in turn: a shared or throttled machine drifts over minutes, so each
    # ratio is taken against the reference of its own round, and the median round is reported.
    results = {name: [] for name, _ in loops}
    with tempfile.TemporaryDirectory() as tmp:
        timed_train(cfg, WARMUP, tmp)  # warm-up (allocator, first-call overheads)
        for _ in range(args.rounds):
            for name, run in loops:
                results[name].append(run(tmp))
    ref = [ips for ips, _ in results[loops[0][0]]]
    where = torch.cuda.get_device_name(args.device) if gpu else "CPU"
    print(f"mnist-mlp on {where} (torch {torch.__version__}), batch {cfg.train.batch_size}, {args.steps} steps after "
          f"{WARMUP} warm-up steps, {args.threads} threads, {args.rounds} round(s), load average {os.getloadavg()[0]:.1f}; steady-state "
          f"img/s (real images seen by D per second); a ganforge run also pays a fixed set-up/finish cost (last column)")
    print(f"{'loop (median over rounds)':<62} {'img/s':>8} {'ratio':>6} {'ratios per round':>24} {'ms/step':>8} {'fixed s':>8}")
    for name, _ in loops:
        ips = statistics.median(r[0] for r in results[name])
        ratios = [r[0] / f for r, f in zip(results[name], ref)]
        fixed = [r[1] for r in results[name] if r[1] is not None]
        print(f"{name:<62} {ips:8.0f} {statistics.median(ratios):6.2f} {' '.join(f'{x:.2f}' for x in ratios):>24} "
              f"{1e3 * cfg.train.batch_size / ips:8.2f} {f'{statistics.median(fixed):8.2f}' if fixed else ''}")
    if args.profile:
        (profile_gpu_step if gpu else profile_step)(cfg, args.threads)


def matmul_peak(n: int = 2048, reps: int = 10) -> dict[str, float]:
    """GFLOP/s of an n×n fp32 matmul on the current threads (the practical peak), by torch's
    own ``@`` (MKL's sgemm on the CPU) and by oneDNN; the CPU's peak is the larger."""
    from ganforge.models.layers import _ONEDNN_LINEAR, onednn_linear

    a, b = torch.randn(n, n), torch.randn(n, n)
    ways = {"torch": lambda: a @ b}
    if _ONEDNN_LINEAR is not None:
        ways["oneDNN"] = lambda: onednn_linear(a, b)
    peaks = {}
    for name, mm in ways.items():
        for _ in range(3):
            mm()
        t0 = time.perf_counter()
        for _ in range(reps):
            mm()
        peaks[name] = 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9
    return peaks


def _step_profile(cfg, steps: int, profiled: int = 20):
    """(seconds per step, profiler events over ``profiled`` steps) of a GANTask step after warm-up."""
    from torch.profiler import ProfilerActivity, profile

    from ganforge.data.batches import DeviceBatcher, Feed
    from ganforge.data.training import training_data
    from ganforge.tasks.gan import GANTask

    device = torch.device(cfg.train.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    x, y, spec = training_data(cfg)
    b = cfg.train.batch_size
    feed = Feed(DeviceBatcher(x, y, b, seed=0, device=device), b, 1, device)
    task = GANTask(cfg, spec, device)
    task.train_mode()
    for i in range(20):
        task.step(feed, i)
    sync()
    t0 = time.perf_counter()
    for i in range(steps):
        task.step(feed, i)
    sync()
    step_s = (time.perf_counter() - t0) / steps
    activities = [ProfilerActivity.CPU] + [ProfilerActivity.CUDA] * (device.type == "cuda")
    with profile(activities=activities, with_flops=True) as prof:
        for i in range(profiled):
            task.step(feed, i)
        sync()
    return step_s, prof.key_averages()


def profile_step(cfg, threads: int, steps: int = 100) -> None:
    """Where the time of one GANTask step goes, and the share of the matmul peak it reaches.
    The profiler counts FLOPs only for torch's own mm/addmm, so they are counted on the same
    step with ``model.matmul=torch`` (the same products)."""
    step_s, events = _step_profile(cfg, steps)
    _, torch_events = _step_profile(cfg.override({"model.matmul": "torch"}), 5)
    flops = sum(e.flops for e in torch_events if e.flops) / 20
    total = sum(e.self_cpu_time_total for e in events)
    peaks = matmul_peak()
    peak = max(peaks.values())
    print(f"\nprofile ({resolve_matmul(cfg.model.matmul)} products): {step_s * 1e3:.1f} ms per step ({threads} threads); matmul "
          f"FLOPs per step {flops / 1e9:.2f} G -> {flops / step_s / 1e9:.1f} GFLOP/s; fp32 matmul peak (2048^3) "
          + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items())
          + f" GFLOP/s; the loop reaches {100 * flops / step_s / 1e9 / peak:.0f} % of the larger")
    print(f"{'op (self CPU time)':<36} {'share':>6}")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:12]:
        print(f"{e.key:<36} {100 * e.self_cpu_time_total / total:5.1f}%")


def profile_gpu_step(cfg, threads: int, steps: int = 200, profiled: int = 20, n: int = 8192) -> None:
    """On a GPU: the step time, the GPU's busy share of it (kernel time per step over the step
    time; at batch 64 the rest is the CPU launching kernels), the share of the fp32 matmul peak
    (TF32 off, an n³ product on the same GPU) that the step's products reach, and the kernels
    that take the GPU time."""
    from torch.autograd import DeviceType

    step_s, events = _step_profile(cfg, steps, profiled)
    flops = sum(e.flops for e in events if e.flops) / profiled
    # Kernels alone: an op's event also carries the device time of the kernels it launched, and a
    # record_function range (Adam's step) has a GPU-side twin spanning its kernels, so summing
    # every event would count kernels twice or more.
    cpu_keys = {e.key for e in events if e.device_type == DeviceType.CPU}
    kernels = [e for e in events if e.device_type == DeviceType.CUDA and e.key not in cpu_keys]
    gpu_us = sum(e.self_device_time_total for e in kernels)
    launches = sum(e.count for e in kernels) / profiled
    a, b = torch.randn(n, n, device=cfg.train.device), torch.randn(n, n, device=cfg.train.device)
    assert not torch.backends.cuda.matmul.allow_tf32, "TF32 on: the peak would not be fp32's"
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    peak = 2 * n**3 * 10 / (time.perf_counter() - t0) / 1e9
    print(f"\nprofile on {torch.cuda.get_device_name(cfg.train.device)}: {step_s * 1e3:.2f} ms per step; "
          f"{launches:.0f} kernels per step, busy {gpu_us / profiled / 1e3:.2f} ms of it "
          f"({100 * gpu_us / profiled / 1e6 / step_s:.0f} %); matmul FLOPs per step {flops / 1e9:.2f} G -> "
          f"{flops / step_s / 1e9:.0f} GFLOP/s; fp32 matmul peak ({n}^3, TF32 off) {peak:,.0f} GFLOP/s; "
          f"the loop reaches {100 * flops / step_s / 1e9 / peak:.2f} % of it")
    print(f"{'kernel (GPU time)':<60} {'share':>6} {'per step':>8}")
    for e in sorted(kernels, key=lambda e: -e.self_device_time_total)[:10]:
        print(f"{e.key[:60]:<60} {100 * e.self_device_time_total / gpu_us:5.1f}% {e.count / profiled:8.1f}")
    cpu = [e for e in events if e.device_type == DeviceType.CPU]
    total_cpu = sum(e.self_cpu_time_total for e in cpu)
    print(f"{'op (self CPU time: Python, dispatch, launches)':<60} {'share':>6}")
    for e in sorted(cpu, key=lambda e: -e.self_cpu_time_total)[:10]:
        print(f"{e.key[:60]:<60} {100 * e.self_cpu_time_total / total_cpu:5.1f}%")

if __name__ == "__main__":
    main()

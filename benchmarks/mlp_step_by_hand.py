"""Is autograd what keeps `mnist-mlp`'s step from 2x the textbook loop? (issue 20)

The preset's step (``task.reuse_fake``, FastDropout's masks, the preset's matrix-product
library, no EMA) two ways, in one process, on the same random batch:

- **autograd**: ganforge's own ``d_step`` and ``g_step`` (``ganforge.tasks.gan``), as
  ``GANTask.step`` runs them;
- **by hand**: the same maths with every gradient written out (the lecture's backprop: no
  autograd graph, no ``frozen(D)``, about 40 % fewer ATen calls; each LeakyReLU's slope and
  dropout mask folded into one factor that the forward and the backward both multiply by).

Both draw z and the masks from torch's generator in the same order, so with one seed they
compute the same step up to float rounding (``--check`` prints both losses step by step).
The timing runs the two in interleaved rounds and prints each round's ms per step:

    python benchmarks/mlp_step_by_hand.py [--rounds 8] [--steps 100] [--threads 2] [--profile]
    python benchmarks/mlp_step_by_hand.py --check

A research tool, not a training path: it knows only ``mnist-mlp``'s layer layout
(Linear + BatchNorm + LeakyReLU in G, Linear + LeakyReLU + dropout in D, bce / non-saturating).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from ganforge.models.layers import OneDNNLinear, onednn_linear
from ganforge.presets import preset_config
from ganforge.tasks import DataSpec, GANTask
from ganforge.tasks.gan import d_step, g_step

CFG = preset_config("mnist-mlp")
SHAPE = (1, 28, 28)


def build(seed: int = 0) -> GANTask:
    """The preset's task on the CPU (its G, D, optimizers and objective), without the EMA."""
    torch.manual_seed(seed)
    return GANTask(CFG.override({"task.ema": 0.0}), DataSpec(SHAPE, 0, True), torch.device("cpu"))


class AutogradStep:
    """ganforge's step for this preset (``GANTask.step`` without its data feed): one G forward
    reused by the D and the G update."""

    def __init__(self, task: GANTask):
        self.task = task

    def __call__(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.task
        z = torch.randn(len(real), CFG.model.z_dim)
        fake = t.G(z)
        d = d_step(t.G, t.D, t.opt_d, real, None, z, t.obj, joint=t.joint, fake=fake)
        g = g_step(t.G, t.D, t.opt_g, z, None, t.obj, fake=fake)
        return d["d_loss"], g["g_loss"]


class ByHandStep:
    """The same step with the gradients written out."""

    def __init__(self, task: GANTask):
        self.opt_g, self.opt_d = task.opt_g, task.opt_d
        g, f = list(task.G.net), list(task.D.features)
        self.d_lin = [f[0], f[3], f[6], task.D.head]
        self.g_lin, self.g_bn = [g[0], g[3], g[6], g[9]], [g[1], g[4], g[7]]
        self.dropout = f[2]
        self.slope = f[1].negative_slope
        onednn = isinstance(self.d_lin[0], OneDNNLinear)
        # x Wᵀ + b by the library the layers use (both backward products are of this form too)
        self.linear = onednn_linear if onednn else F.linear

    def d_forward(self, x):
        saved, h = [], x
        for lin in self.d_lin[:3]:
            pre = self.linear(h, lin.weight, lin.bias)
            keep = self.dropout.keep_mask(pre.shape)  # FastDropout's draw, scaled by 1/(1 - p)
            factor = torch.where(pre > 0, keep, keep * self.slope)  # LeakyReLU then dropout = pre * factor
            saved.append((h, factor))
            h = pre.mul_(factor)
        saved.append((h, None))
        head = self.d_lin[3]
        return self.linear(h, head.weight, head.bias).squeeze(1), saved

    def d_backward(self, g_logit, saved, weights: bool):
        """Back through D from dL/dlogit: the weight gradients (D step) or dL/dx (G step)."""
        g = g_logit.unsqueeze(1)
        for i in (3, 2, 1, 0):
            lin, (inp, factor) = self.d_lin[i], saved[i]
            if factor is not None:
                g = g.mul_(factor)
            if weights:
                lin.weight.grad, lin.bias.grad = self.linear(g.t(), inp.t()), g.sum(0)  # gᵀ x
            if i > 0 or not weights:
                g = self.linear(g, lin.weight.t())  # g W
        return g

    def __call__(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(real)
        z = torch.randn(n, CFG.model.z_dim)
        saved_g, h = [], z
        for lin, bn in zip(self.g_lin[:3], self.g_bn):
            pre = self.linear(h, lin.weight, lin.bias)
            out, mean, invstd = torch.native_batch_norm(pre, bn.weight, bn.bias, bn.running_mean, bn.running_var,
                                                        True, bn.momentum, bn.eps)
            bn.num_batches_tracked.add_(1)
            saved_g.append((h, pre, mean, invstd, out))
            h = F.leaky_relu(out, self.slope)
        last = self.g_lin[3]
        fake = torch.tanh(self.linear(h, last.weight, last.bias))
        # D step on [real; fake]: bce, real -> 1, fake -> 0 (dL/dlogit = (sigmoid - target) / n per half)
        logits, saved = self.d_forward(torch.cat([real.flatten(1), fake]))
        d_loss = F.softplus(-logits[:n]).mean() + F.softplus(logits[n:]).mean()
        g_logit = torch.sigmoid(logits)
        g_logit[:n].sub_(1.0)
        self.d_backward(g_logit.mul_(1.0 / n), saved, weights=True)
        self.opt_d.step()
        # G step through the updated D: non-saturating, softplus(-logit)
        logits, saved = self.d_forward(fake)
        g_loss = F.softplus(-logits).mean()
        g = self.d_backward(torch.sigmoid(logits).sub_(1.0).mul_(1.0 / n), saved, weights=False)
        g = g * (1.0 - fake * fake)  # tanh'
        last.weight.grad, last.bias.grad = self.linear(g.t(), h.t()), g.sum(0)
        g = self.linear(g, last.weight.t())
        for i in (2, 1, 0):
            lin, bn = self.g_lin[i], self.g_bn[i]
            inp, pre, mean, invstd, out = saved_g[i]
            g = torch.ops.aten.leaky_relu_backward(g, out, self.slope, False)
            g, bn.weight.grad, bn.bias.grad = torch.ops.aten.native_batch_norm_backward(
                g, pre, bn.weight, bn.running_mean, bn.running_var, mean, invstd, True, bn.eps, [True, True, True])
            lin.weight.grad, lin.bias.grad = self.linear(g.t(), inp.t()), g.sum(0)
            if i > 0:
                g = self.linear(g, lin.weight.t())
        self.opt_g.step()
        return d_loss, g_loss


def compare(steps: int = 10, seed: int = 1) -> list[tuple[float, float, float, float]]:
    """(d autograd, d by hand, g autograd, g by hand) per step, same seed, same batches."""
    reals = torch.rand(steps, 64, *SHAPE, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    a, b = AutogradStep(build()), ByHandStep(build())
    torch.manual_seed(seed)
    la = [tuple(v.item() for v in a(r)) for r in reals]
    torch.manual_seed(seed)
    lb = [tuple(v.item() for v in b(r)) for r in reals]
    return [(x[0], y[0], x[1], y[1]) for x, y in zip(la, lb)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="print both ways' losses for 10 seeded steps")
    ap.add_argument("--profile", action="store_true", help="add where the by-hand step's time goes (self CPU time)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.check:
        print("step  d_loss autograd  by hand   g_loss autograd  by hand")
        for i, row in enumerate(compare()):
            print(f"{i:4d}  {row[0]:15.6f} {row[1]:8.6f}   {row[2]:15.6f} {row[3]:8.6f}")
        return
    real = torch.rand(64, *SHAPE) * 2 - 1
    ways = {"autograd (ganforge's d_step, g_step)": AutogradStep(build()), "by hand": ByHandStep(build())}
    for step in ways.values():
        for _ in range(20):
            step(real)
    times = {name: [] for name in ways}
    for r in range(args.rounds):
        order = list(ways) if r % 2 == 0 else list(reversed(ways))
        for name in order:
            t0 = time.perf_counter()
            for _ in range(args.steps):
                ways[name](real)
            times[name].append((time.perf_counter() - t0) / args.steps * 1e3)
    library = "oneDNN" if ways["by hand"].linear is onednn_linear else "torch's default"
    print(f"mnist-mlp's step (reuse_fake, FastDropout, products by {library}, no EMA), batch 64, "
          f"{args.threads} threads, {args.rounds} interleaved rounds x {args.steps} steps")
    for name, t in times.items():
        print(f"{name:38s} median {statistics.median(t):6.2f} ms   rounds " + " ".join(f"{x:.2f}" for x in t))
    ratio = statistics.median(times[list(ways)[0]]) / statistics.median(times["by hand"])
    print(f"by hand is {ratio:.3f}x autograd (ratio of medians)")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(50):
                ways["by hand"](real)
        print(f"the by-hand step under torch.profiler, 50 steps "
              f"({prof.key_averages().self_cpu_time_total / 50 / 1e3:.2f} ms of self CPU time per step):")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()

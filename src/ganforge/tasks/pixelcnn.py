"""The autoregressive baseline as a task: a gated PixelCNN (van den Oord et al. 2016)
trained on the exact negative log-likelihood, one network and one optimizer.

The lecture lists PixelCNN/PixelRNN beside the VAE as what GANs are measured against,
"generating data based on each pixel; hard to generate new samples from": training is one
forward pass over whole images, but sampling is 784 sequential steps for an MNIST image,
each waiting for the pixel before it. :class:`PixelCNNSampler` does that pixel by pixel,
batched, on the model's device (computing only what each step's receptive field needs),
from uniforms drawn up front with a seeded CPU generator (so a seed gives the same
draws whatever the device or batch size), with a progress bar.

Checkpoint names: net (the PixelCNN), opt.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ganforge.config import Config, PixelCNNConfig
from ganforge.data.batches import Feed, to_model_range
from ganforge.errors import ConfigError
from ganforge.models.pixelcnn import GatedPixelCNN, binarize, bits_per_dim, nll_per_image, to_input
from ganforge.optim import make_optimizer
from ganforge.sampler import Sampler
from ganforge.tasks.base import DataSpec, Task, fast_forwards, state_fields


def build_pixelcnn(t: PixelCNNConfig, img_shape, num_classes: int) -> GatedPixelCNN:
    return GatedPixelCNN(tuple(img_shape), t.channels, t.layers, t.kernel, t.first_kernel, t.head, num_classes,
                         t.likelihood)


def check_pixelcnn_config(cfg: Config, spec: DataSpec) -> None:
    """Refuse what a PixelCNN cannot model, or options only a GAN reads."""
    if not spec.is_image or len(spec.shape) != 3:
        raise ConfigError("a PixelCNN models images pixel by pixel; train it on an image dataset (mnist, a folder, "
                          "an .npz of uint8 images), not on 1-D rows.")
    for name in ("spectral_norm", "projection"):
        if getattr(cfg.model, name):
            raise ConfigError(f"model.{name} belongs to a GAN's discriminator and a PixelCNN has none; "
                              f"set model.{name}=false.")


class PixelCNNSampler(Sampler):
    """Draws images pixel by pixel from a :class:`GatedPixelCNN`; also scores images
    (:meth:`nll`), which is what makes it the likelihood baseline.

    Extra fields: ``likelihood`` ("categorical" | "bernoulli") and ``binarize`` (how the
    model's training data were binarised: "none", "dynamic", "threshold")."""

    def __init__(self, net: GatedPixelCNN, *, likelihood: str, binarize: str, **fields):
        super().__init__(**fields)
        self.net = net
        self.training = net.training  # mirror the network's mode, as GeneratorSampler does
        self.likelihood: str = likelihood
        self.binarize: str = binarize

    def _levels_to_output(self, levels: torch.Tensor) -> torch.Tensor:
        """Pixel values -> float images in the model's range (binary 0/1 shown as 0/255)."""
        pixels = levels * 255 if self.likelihood == "bernoulli" else levels
        return to_model_range(pixels.to(torch.uint8), self.scaling)

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, cond=None, batch_size: int = 500,
               device: str | torch.device | None = None, progress: bool | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` images (n,C,H,W) float32 on the CPU in the model's range, and their labels.

        Pixel i of every image in a batch is drawn from p(x_i | x_<i) by inverting its CDF at a
        uniform drawn beforehand (one per pixel and channel, from ``seed``). Only what the
        receptive field covers is computed (``net.reach`` pixels up and left): the vertical stack
        once per row, the horizontal stack once per pixel over the pixels to its left; the same
        conditionals as a pass over the whole image (tested), at a small fraction of its cost.
        ``progress``: a tqdm bar (None: only on a terminal)."""
        from tqdm.auto import tqdm

        gen, y, device = self.start(n, seed, cond, batch_size, device)
        c, height, width = self.img_shape
        uniforms = torch.rand(n, c, height, width, generator=gen)
        reach = self.net.reach
        bar = tqdm(total=math.ceil(n / batch_size) * height * width, desc="sample", unit="pixel",
                   disable=(None if progress is None else not progress), leave=False, dynamic_ncols=True)
        out = []
        for i in range(0, n, batch_size):
            u = uniforms[i:i + batch_size].to(device)
            yb = None if y is None else y[i:i + batch_size].to(device)
            levels = torch.zeros(u.shape, dtype=torch.long, device=device)
            for r in range(height):
                rows = levels[:, :, max(0, r - reach):r + 1]
                context = self.net.row_context(to_input(rows, self.likelihood), yb)
                for col in range(width):
                    left = max(0, col - reach)
                    row = to_input(levels[:, :, r:r + 1, left:col + 1], self.likelihood)
                    logits = self.net.pixel_logits(row, [t[..., left:col + 1] for t in context])
                    levels[:, :, r, col] = self._draw(logits, u[:, :, r, col])
                    bar.update(1)
            out.append(self._levels_to_output(levels).cpu())
        bar.close()
        return torch.cat(out), y

    def _draw(self, logits: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One pixel per image and channel from its conditional, by the inverse CDF at ``u``.
        ``logits``: (B,256,C) or (B,C); ``u``: (B,C) in [0,1)."""
        if self.likelihood == "bernoulli":
            return (u < torch.sigmoid(logits.float())).long()
        cdf = torch.softmax(logits.float(), dim=1).cumsum(dim=1)
        # The first value whose CDF exceeds u; the clamp guards a last CDF a rounding error below u.
        return (cdf <= u[:, None]).sum(dim=1).clamp_(max=cdf.shape[1] - 1)

    @torch.no_grad()
    def nll(self, levels: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 500,
            device: str | torch.device | None = None) -> torch.Tensor:
        """Exact -log p(x) in nats per image, (N,) float64 on the CPU. ``levels``: (N,C,H,W)
        int pixel values (0..255 for "categorical", 0/1 for "bernoulli")."""
        device = device or next(self.parameters()).device
        out = []
        for i in range(0, len(levels), batch_size):
            lv = levels[i:i + batch_size].to(device).long()
            yb = None if y is None else y[i:i + batch_size].to(device)
            logits = self.net(to_input(lv, self.likelihood), yb)
            out.append(nll_per_image(logits.double(), lv, self.likelihood).cpu())  # sums of 784 terms: in float64
        return torch.cat(out)


class PixelCNNTask(Task):
    progress = {"nll": "NLL nats", "bpd": "bits/dim"}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist=None):
        super().__init__(cfg, spec, device, dist)
        check_pixelcnn_config(cfg, spec)
        self.t: PixelCNNConfig = cfg.task
        self.net = build_pixelcnn(self.t, spec.shape, spec.num_classes).to(device)
        self.opt = make_optimizer(self.net.parameters(), self.t.optim)
        (self.fwd,) = fast_forwards(cfg, spec, self.net)
        self.dims = math.prod(spec.shape)
        self.modules = {"net": self.net}
        self.optimizers = {"opt": self.opt}
        k = spec.num_classes
        # The preview: a few samples (each costs H*W passes), one row per class when conditional.
        self.grid_n, self.grid_nrow = (min(k, 10) * 4, 4) if k else (16, 4)
        self.grid_y = torch.arange(min(k, 10)).repeat_interleave(4) if k else None

    def levels(self, real: torch.Tensor, feed: Feed | None = None) -> torch.Tensor:
        """The batch as the pixel values the model predicts: the 8-bit values, or a binarisation."""
        if self.t.likelihood == "categorical":
            return real.long()
        u = None
        if self.t.binarize == "dynamic":  # from the Feed's noise generator, so a resume is bit-exact
            u = ((feed.z(self.dims, "uniform") + 1) / 2).view(real.shape)
        return binarize(real, self.t.binarize, u)

    def step(self, feed: Feed, step: int) -> dict[str, torch.Tensor]:
        real, y = feed.batch()
        target = self.levels(real, feed)
        with self.autocast():
            logits = self.fwd(to_input(target, self.t.likelihood), y)
        nll = nll_per_image(logits, target, self.t.likelihood)
        loss = nll.mean() / self.dims  # per dimension: the same step sizes for any image size
        self.update(self.opt, loss, self.net)
        nll = nll.mean().detach()
        return {"nll": nll, "bpd": bits_per_dim(nll, self.dims)}

    def state(self) -> dict:
        return {"likelihood": self.t.likelihood, "binarize": self.t.binarize}

    def sampler(self) -> PixelCNNSampler:
        return _sampler(self.cfg, self.net, self.spec.shape, self.spec.num_classes)

    def preview(self) -> tuple[torch.Tensor, int]:
        s = self.sampler()
        was = s.net.training
        s.eval()
        try:  # the sampler draws from its own seeded generator, never the training RNG
            imgs, _ = s.sample(self.grid_n, seed=self.cfg.train.seed + 2, cond=self.grid_y, progress=False)
        finally:
            s.net.train(was)
        return imgs.to(self.device), self.grid_nrow

    @classmethod
    def load_sampler(cls, cfg: Config, state: dict, ckpt: Path, *, ema: bool = True,
                     device="cpu") -> PixelCNNSampler:
        from ganforge import checkpoint

        shape, k = state_fields(state, img_shape=tuple, num_classes=int)
        net = build_pixelcnn(cfg.task, shape, k)
        checkpoint.load_module_weights(ckpt, "net", net)
        return _sampler(cfg, net.to(device), shape, k, str(ckpt)).eval()


def _sampler(cfg: Config, net: GatedPixelCNN, shape, num_classes: int, checkpoint: str | None = None) -> PixelCNNSampler:
    t: PixelCNNConfig = cfg.task
    return PixelCNNSampler(net, likelihood=t.likelihood, binarize=t.binarize, img_shape=tuple(shape),
                           num_classes=num_classes, scaling=cfg.data.scaling, kind="pixelcnn", checkpoint=checkpoint)

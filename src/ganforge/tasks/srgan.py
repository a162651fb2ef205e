"""SRGAN (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network") as a task, in the paper's two phases:

1. **SRResNet**: the generator alone, trained on pixel MSE for ``task.pretrain_steps``
   steps (§3.2: "we employ the trained MSE-based SRResNet network as initialization for the
   generator when training the actual GAN to avoid undesired local optima");
2. **SRGAN**: the perceptual loss l^SR = l^SR_X (content) + 10⁻³ · l^SR_Gen (adversarial,
   -log D(G(I^LR)), Eq. 3 and 6), with D trained as usual (Eq. 2).

The phase is :meth:`~ganforge.config.SRGANConfig.phase`, a pure function of the step, so a
resume lands in the right phase. At the first GAN step G's weights are copied into ``G_mse``
(a checkpointed module), which keeps the SRResNet as a baseline inside every later checkpoint
(``load_translator(run, net="G_mse")``).

Content loss (§2.2.1, the VGG loss): the squared distance between feature maps of a fixed
classifier. For one-channel images ganforge's shipped MNIST classifier
(:mod:`ganforge.eval.extractor`, hash-checked), its last convolutional feature maps (after
ReLU, before the last pooling: the analogue of the paper's φ5,4); for RGB a VGG19 from a
local weights file checked by sha256 (never downloaded at run time); when that file is
missing the reason is shown and the loss falls back to pixel MSE (the SRGAN-MSE variant of
the paper's Table 1).

Checkpoint names: G, D, G_mse, opt_g, opt_d.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.config import Config, SRGANConfig
from ganforge.data.batches import Feed
from ganforge.errors import CheckpointError, ConfigError
from ganforge.losses.adversarial import bce_d_loss, nonsaturating_g_loss
from ganforge.models.image2image import SRDiscriminator, SRResNet
from ganforge.optim import make_optimizer
from ganforge.tasks.base import DataSpec
from ganforge.tasks.image2image import ImageToImageTask

#: torchvision's VGG19 ``features`` up to relu5_4 (φ5,4 of the paper): "M" = max-pool.
VGG19_LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def vgg19_features() -> nn.Sequential:
    """VGG19's convolutional layers up to relu5_4, with torchvision's module indices (so its
    ``features.N.weight`` keys load); written out because torchvision is not a dependency."""
    layers: list[nn.Module] = []
    c = 3
    for v in VGG19_LAYERS:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=False)]
            c = v
    return nn.Sequential(*layers)


class ContentNet(nn.Module):
    """A fixed feature network φ for l^SR_X: takes images in [-1,1], returns feature maps."""

    def __init__(self, body: nn.Module, name: str, mean=None, std=None):
        super().__init__()
        self.body, self.name = body.eval().requires_grad_(False), name
        self.norm = None
        if mean is not None:
            self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
            self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))
            self.norm = True

    def train(self, mode: bool = True) -> "ContentNet":
        return super().train(False)  # always in eval mode: fixed BatchNorm statistics

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm:
            x = ((x + 1) / 2 - self.mean) / self.std  # ImageNet normalisation on [0,1]
        return self.body(x)


def content_network(t: SRGANConfig, shape: tuple[int, ...]) -> tuple[ContentNet | None, str, str]:
    """(network or None for pixel MSE, its name, a note to show the user or "")."""
    channels = shape[0]
    choice = t.content
    if choice == "auto":
        choice = "mnist" if channels == 1 else "vgg19"
    if choice == "pixel":
        return None, "pixel", ""
    if choice == "mnist":
        if channels != 1:
            raise ConfigError(f"task.content=mnist uses the MNIST classifier, which reads one-channel images, but the "
                              f"targets have {channels}; use task.content=vgg19 or pixel.")
        from ganforge.eval.extractor import load_extractor

        cnn = copy.deepcopy(load_extractor(dataset="mnist").model)  # a private copy: the cached one serves eval
        return ContentNet(cnn.body[:13], "mnist"), "mnist", ""  # body[:13]: 4th conv block's ReLU, 14x14x64 maps
    # vgg19
    if channels != 3:
        raise ConfigError(f"task.content=vgg19 reads RGB images, but the targets have {channels} channel(s); "
                          "use task.content=mnist or pixel.")
    path = Path(t.vgg19_weights) if t.vgg19_weights else None
    if path is None or not path.is_file():
        reason = "task.vgg19_weights is not set" if path is None else f"{path} does not exist"
        if t.content == "vgg19":
            raise ConfigError(f"task.content=vgg19 but {reason}; give a local VGG19 weights file "
                              "(docs/image-to-image.md) or set task.content=pixel.")
        return None, "pixel", (f"SRGAN content loss: no VGG19 ({reason}); falling back to pixel MSE (SRGAN-MSE). "
                               "Set task.vgg19_weights and task.vgg19_sha256 for the VGG loss.")
    from safetensors.torch import load_file

    from ganforge.files import sha256_file

    digest = sha256_file(path)
    if not t.vgg19_sha256:
        raise ConfigError(f"{path} has sha256 {digest}; state it as task.vgg19_sha256 so a changed file is caught.")
    if digest != t.vgg19_sha256:
        raise CheckpointError(f"{path} has sha256 {digest[:12]}… but task.vgg19_sha256 is {t.vgg19_sha256[:12]}…; "
                              "the file is not the one you named, replace it or fix the hash.")
    net = vgg19_features()
    try:
        state = {k.removeprefix("features."): v for k, v in load_file(str(path)).items()}
        net.load_state_dict({k: v for k, v in state.items()  # the features up to relu5_4; the classifier is unused
                             if k.split(".")[0].isdigit() and int(k.split(".")[0]) < len(net)})
    except Exception as exc:
        raise CheckpointError(f"cannot load {path} as VGG19 features ({exc}); save torchvision's vgg19 "
                              "state_dict with safetensors (docs/image-to-image.md).") from None
    return ContentNet(net, "vgg19", IMAGENET_MEAN, IMAGENET_STD), "vgg19", ""


def content_loss(phi: ContentNet | None, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """l^SR_X: mean squared distance of φ's feature maps (Eq. 5), or of pixels when φ is None (Eq. 4)."""
    if phi is None:
        return F.mse_loss(sr, hr)
    return F.mse_loss(phi(sr), phi(hr).detach())


class SRGANTask(ImageToImageTask):
    title = "SRGAN"
    progress = {"mse": "MSE", "d_loss": "D"}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist=None):
        super().__init__(cfg, spec, device, dist)
        self.t: SRGANConfig = cfg.task
        k = self.info.scale
        if self.info.input_shape[1] * k != self.info.target_shape[1] or k not in (2, 4):
            raise ConfigError(f"SRGAN upsamples by 2 or 4, but data.pairs={cfg.data.pairs} makes "
                              f"{self.info.input_shape[2]}x{self.info.input_shape[1]} inputs for "
                              f"{self.info.target_shape[2]}x{self.info.target_shape[1]} targets; use data.pairs="
                              "downsample:2 or downsample:4 (or kind=pix2pix for same-size pairs).")
        self.G = self.build_generator(cfg, self.info.input_shape, self.info.target_shape).to(device)
        self.G_mse = copy.deepcopy(self.G).requires_grad_(False)
        self.D = SRDiscriminator(self.info.target_shape[0], self.t.d_width, self.t.d_stages).to(device)
        self.phi, self.content_name, self.note = content_network(self.t, self.info.target_shape)
        if self.phi is not None:
            self.phi.to(device)
        self.opt_g = make_optimizer(self.G.parameters(), self.t.g_optim)
        self.opt_d = make_optimizer(self.D.parameters(), self.t.d_optim)
        self.modules = {"G": self.G, "D": self.D, "G_mse": self.G_mse}
        self.optimizers = {"opt_g": self.opt_g, "opt_d": self.opt_d}

    @classmethod
    def build_generator(cls, cfg: Config, in_shape, out_shape) -> SRResNet:
        t = cfg.task
        return SRResNet(in_shape[0], out_shape[0], out_shape[-1] // in_shape[-1], t.width, t.blocks)

    def state(self) -> dict:
        return {**super().state(), "content": self.content_name}

    def health(self, row: dict, step: int) -> list[str]:
        note, self.note = self.note, ""  # the fallback is said once per run (and once per resume)
        return [note] if note else []

    def step(self, feed: Feed, step: int) -> dict[str, torch.Tensor]:
        lr, hr = self.pair(feed)
        zero = torch.zeros((), device=hr.device)
        if self.t.phase(step) == "mse":
            with self.autocast():
                sr = self.G(lr)
            mse = F.mse_loss(sr.float(), hr)
            self.update(self.opt_g, mse, self.G)
            # The same keys every step (a log window may span the phase change): zeros where a phase has no value.
            return {"mse": mse.detach(), "content": zero, "g_adv": zero, "d_loss": zero, "gan_phase": zero}
        if step == self.t.pretrain_steps and self.t.pretrain_steps:
            self.G_mse.load_state_dict(self.G.state_dict())  # the SRResNet, kept as the baseline
        with self.autocast():
            sr = self.G(lr)
        sr = sr.float()
        self.D.requires_grad_(True)
        with self.autocast():
            real_logits, fake_logits = self.D(hr), self.D(sr.detach())
        d_loss = bce_d_loss(real_logits.float(), fake_logits.float())
        self.update(self.opt_d, d_loss, self.D)
        self.D.requires_grad_(False)
        with self.autocast():
            g_logits = self.D(sr)
        content = content_loss(self.phi, sr, hr)
        adv = nonsaturating_g_loss(g_logits.float())
        g_loss = content + self.t.adv_weight * adv  # the perceptual loss, Eq. 3
        self.update(self.opt_g, g_loss, self.G)
        self.D.requires_grad_(True)
        return {"mse": F.mse_loss(sr.detach(), hr), "content": content.detach(), "g_adv": adv.detach(),
                "d_loss": d_loss.detach(), "gan_phase": torch.ones((), device=hr.device)}

    @classmethod
    def load_translator(cls, cfg: Config, state: dict, ckpt: Path, *, net: str = "G", device="cpu"):
        if net == "G_mse" and int(state.get("step", 0)) <= cfg.task.pretrain_steps:
            raise ConfigError(f"{ckpt} was saved at step {state.get('step')}, before the GAN phase began (step "
                              f"{cfg.task.pretrain_steps}); its G is still the SRResNet, so load net=G.")
        return super().load_translator(cfg, state, ckpt, net=net, device=device)

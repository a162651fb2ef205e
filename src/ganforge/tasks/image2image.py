"""What the two image-to-image families (``srgan``, ``pix2pix``) share: drawing a batch of
(input, target) pairs from the feed, the preview grid (input | output | target rows), the
:class:`~ganforge.translate.Translator` sampler, and rebuilding it from a checkpoint.

A subclass builds ``self.G`` (and its D) and defines :meth:`build_generator` (a classmethod,
so a checkpoint can rebuild G from its config and ``state.json`` alone) and ``step``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganforge.config import Config
from ganforge.data.batches import Feed
from ganforge.data.paired import PairInfo
from ganforge.errors import ConfigError
from ganforge.tasks.base import DataSpec, Task, state_fields
from ganforge.translate import Translator, display_input


class ImageToImageTask(Task):
    #: the kind's name in messages
    title = "an image-to-image model"
    PREVIEW = 8  # test pairs in the preview grid (one column each)

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device, dist=None):
        super().__init__(cfg, spec, device, dist)
        if spec.paired is None:
            raise ConfigError(f"kind={cfg.kind} learns from (input, target) pairs; set data.pairs (e.g. "
                              "downsample:4, edges, mask, gray, noise:0.2, A/B or AB).")
        from ganforge.config import ModelConfig

        changed = [k for k, v in vars(cfg.model).items() if getattr(ModelConfig(), k) != v]
        if changed:  # the shared model section describes noise-to-image networks; these kinds never read it
            raise ConfigError(f"kind={cfg.kind} builds its networks from the task section (task.width, ...), so "
                              f"model.{changed[0]} would be ignored; leave the model section at its defaults.")
        if cfg.data.scaling != "tanh":
            raise ConfigError(f"kind={cfg.kind} works on pixels in [-1,1] with a tanh output; set data.scaling=tanh.")
        self.info: PairInfo = spec.paired
        x, t, _ = self.info.test(self.PREVIEW)
        self.fixed = (x.to(device), t.to(device))

    # -- data
    def pair(self, feed: Feed) -> tuple[torch.Tensor, torch.Tensor]:
        """(input, target) in [-1,1] on the device for one step; a degradation's random draws
        come from the feed's noise generator (one (B, k) block per step), so they are
        seeded, resumed and sliced by rank like z."""
        batch, _ = feed.batch()
        draws = None
        if self.info.layout == "degrade":
            k, kind = self.info.degradation.draws(self.info.target_shape)
            if k:
                draws = feed.z(k, kind)
        return self.info.split(batch, draws)

    # -- checkpoints and sampling
    @classmethod
    def build_generator(cls, cfg: Config, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> nn.Module:
        raise NotImplementedError

    def state(self) -> dict:
        return {"in_shape": list(self.info.input_shape), "pairs": self.cfg.data.pairs}

    def sampler(self) -> Translator:
        t = _translator(self.cfg, self.G, self.info.input_shape, self.spec.shape)
        t._info = self.info  # the test split already loaded (or in-memory data, which a config cannot name)
        return t

    def preview(self) -> tuple[torch.Tensor, int]:
        """Three rows of :attr:`PREVIEW` fixed test pairs: input (shown at the target's size),
        output (G in eval mode), target."""
        x, t = self.fixed
        with torch.random.fork_rng(devices=[]):
            out = self.sampler().translate(x, device=self.device).to(t.device)
        return torch.cat([display_input(x, self.spec.shape), out, t]), len(x)

    @classmethod
    def load_translator(cls, cfg: Config, state: dict, ckpt: Path, *, net: str = "G",
                        device="cpu") -> Translator:
        from ganforge import checkpoint

        in_shape, out_shape = state_fields(state, in_shape=tuple, img_shape=tuple)
        G = cls.build_generator(cfg, in_shape, out_shape)
        checkpoint.load_module_weights(ckpt, net, G)
        return _translator(cfg, G.to(device), in_shape, out_shape, str(ckpt)).eval()

    @classmethod
    def load_sampler(cls, cfg: Config, state: dict, ckpt: Path, *, ema: bool = True, device="cpu") -> Translator:
        return cls.load_translator(cfg, state, ckpt, device=device)


def _translator(cfg: Config, G: nn.Module, in_shape, out_shape, checkpoint: str | None = None) -> Translator:
    from dataclasses import asdict

    return Translator(G, in_shape=tuple(in_shape), pairs=cfg.data.pairs, data=asdict(cfg.data),
                      img_shape=tuple(out_shape), num_classes=0, scaling="tanh", kind=cfg.kind, checkpoint=checkpoint)

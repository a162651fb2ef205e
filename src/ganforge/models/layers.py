"""Small layers shared by generators and discriminators."""

from __future__ import annotations

import torch
from torch import nn

OUTPUTS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "none": nn.Identity}


class FastDropout(nn.Dropout):
    """Inverted dropout with ``nn.Dropout(p)``'s maths: in training every element is kept
    with probability 1 - p and scaled by 1/(1 - p); in eval mode it is the identity.

    Only the drawing of the keep-mask differs. ``nn.Dropout`` on the CPU calls
    ``bernoulli_``, one 32-bit draw per element through a slow scalar path; here every
    64-bit word of torch's generator (``random_`` on int64: 63 random bits) gives two
    uniform 31-bit integers (its two halves, top bit cleared), and an element is kept when
    its integer is below round((1 - p)·2^31): a keep probability within 2^-32 of 1 - p
    (``torch.rand``'s floats resolve 2^-24). Hand-written because no torch op draws
    Bernoulli masks fast on the CPU: the masks of ``mnist-mlp``'s D cost 3.9 ms of a 17 ms
    step with ``F.dropout``, 1.2 ms this way (docs/training.md). The same generator and
    seeding, so runs stay reproducible and resumable; a different stream from
    ``nn.Dropout``'s, so one seed gives other masks than with ``model.dropout_masks=torch``.
    A subclass of ``nn.Dropout``, so code that finds dropout layers by type finds it too.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        n = x.numel()
        words = torch.empty((n + 1) // 2, dtype=torch.int64, device=x.device).random_()
        halves = words.view(torch.int32)[:n].bitwise_and_(0x7FFFFFFF).view(x.shape)  # uniform on [0, 2^31)
        keep = torch.empty(x.shape, dtype=x.dtype, device=x.device)  # 1 kept, 0 dropped (compare and cast in one op)
        torch.lt(halves, round((1.0 - self.p) * 2**31), out=keep)
        return x * keep.mul_(1.0 / (1.0 - self.p))


DROPOUT_MASKS = {"torch": nn.Dropout, "fast": FastDropout}


def dropout_layer(p: float, masks: str = "torch") -> nn.Module:
    """``nn.Dropout(p)`` (``masks="torch"``) or the same maths with cheaper masks (``"fast"``)."""
    return DROPOUT_MASKS[masks](p)


def output_layer(name: str) -> nn.Module:
    return OUTPUTS[name]()


def maybe_sn(layer: nn.Module, spectral_norm: bool) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) keeps D roughly 1-Lipschitz per layer."""
    return nn.utils.parametrizations.spectral_norm(layer) if spectral_norm else layer


def one_hot(y: torch.Tensor, num_classes: int, dtype=torch.float32) -> torch.Tensor:
    return torch.nn.functional.one_hot(y, num_classes).to(dtype)


def check_labels(y: torch.Tensor | None, num_classes: int, who: str) -> None:
    if num_classes and y is None:
        raise ValueError(f"{who} is conditional on {num_classes} classes: pass labels y")
    if not num_classes and y is not None:
        raise ValueError(f"{who} is unconditional: do not pass labels")

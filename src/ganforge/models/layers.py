"""Small layers shared by generators and discriminators."""

from __future__ import annotations

import torch
from torch import nn

OUTPUTS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "none": nn.Identity}


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

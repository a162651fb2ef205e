"""Small layers shared by generators and discriminators."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
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
    Off the CPU it is ``F.dropout``: a GPU draws the masks in one fused kernel, and these five
    kernels made the MLP GAN's step on an H200 1.2x slower, not faster (docs/training.md).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, training=True)
        if self.p == 1.0:
            return x * 0.0
        return x * self.keep_mask(x.shape, x.dtype)

    def keep_mask(self, shape, dtype=torch.float32) -> torch.Tensor:
        """A CPU mask of 1/(1 - p) (kept) and 0 (dropped) elements, drawn as ``forward`` draws it."""
        n = math.prod(shape)
        words = torch.empty((n + 1) // 2, dtype=torch.int64).random_()
        halves = words.view(torch.int32)[:n].bitwise_and_(0x7FFFFFFF).view(shape)  # uniform on [0, 2^31)
        keep = torch.empty(shape, dtype=dtype)  # 1 kept, 0 dropped (compare and cast in one op)
        torch.lt(halves, round((1.0 - self.p) * 2**31), out=keep)
        return keep.mul_(1.0 / (1.0 - self.p))


DROPOUT_MASKS = {"torch": nn.Dropout, "fast": FastDropout}


def dropout_layer(p: float, masks: str = "torch") -> nn.Module:
    """``nn.Dropout(p)`` (``masks="torch"``) or the same maths with cheaper masks (``"fast"``)."""
    return DROPOUT_MASKS[masks](p)


def _onednn_linear_op():
    """oneDNN's fully connected product on dense fp32 tensors (the op torch.compile's CPU backend
    calls), or None where this torch was built without oneDNN."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        return torch.ops.mkldnn._linear_pointwise.default
    except (AttributeError, RuntimeError):
        return None


_ONEDNN_LINEAR = _onednn_linear_op()


def onednn_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` (x Wᵀ + b) by oneDNN's fully connected primitive, for dense
    fp32 CPU tensors (either operand may be a strided view); ``F.linear`` itself in a torch
    without oneDNN. No autograd formula: layers use :class:`OneDNNLinear`, whose forward and
    backward products are this function."""
    if _ONEDNN_LINEAR is None:
        return F.linear(x, weight, bias)
    return _ONEDNN_LINEAR(x, weight, bias, "none", [], "")


class _OneDNNLinearFunction(torch.autograd.Function):
    """y = x W^T + b, its forward and both backward products by oneDNN: the same products as
    ``F.linear`` and its autograd formula (grad_x = g W, grad_W = g^T x, grad_b = sum of g over
    rows), only another library's kernels (rounding differs at fp32's last bits)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return onednn_linear(x, weight, bias)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        # Under create_graph (R1, gradient penalty) the gradient must itself be differentiable:
        # torch's own products then, which autograd can differentiate again.
        mm_nt = (lambda a, b: a @ b.t()) if torch.is_grad_enabled() else onednn_linear  # a @ b.T
        grad_x = mm_nt(g, weight.t()) if ctx.needs_input_grad[0] else None
        grad_w = mm_nt(g.t(), x.t()) if ctx.needs_input_grad[1] else None
        grad_b = g.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class OneDNNLinear(nn.Linear):
    """``nn.Linear`` (same parameters, state dict and maths) whose products run in oneDNN on
    the CPU. Hand-written because torch sends fp32 products to MKL's sgemm, which on AMD CPUs
    runs a code path that reaches about half of what the CPU does: on the 2-core AMD EPYC
    (Zen 5) of issue 20, 2048³ at 186 GFLOP/s by MKL and 429 by oneDNN, and the MLP GAN's
    batch-64/128 products 1.5–2.4× faster (docs/training.md). On another device, another
    dtype, under autocast, for inputs that are not a batch of rows, or in a torch without
    oneDNN it is ``F.linear``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (_ONEDNN_LINEAR is not None and x.dim() == 2 and x.device.type == "cpu"
                and x.dtype == torch.float32 and self.weight.dtype == torch.float32
                and not torch.is_autocast_enabled("cpu")):
            return _OneDNNLinearFunction.apply(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)


LINEARS = {"torch": nn.Linear, "onednn": OneDNNLinear}


@functools.cache
def cpu_vendor(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's vendor string as Linux reports it ("GenuineIntel", "AuthenticAMD"), or "" where
    ``cpuinfo`` does not say (another OS: no such file)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def resolve_matmul(matmul: str) -> str:
    """``"auto"`` is oneDNN on AMD CPUs and torch's default (MKL's sgemm) elsewhere: measured on
    2-core machines of issue 20, oneDNN's products made the MLP GAN's step 1.5x faster on an
    AMD EPYC (Zen 5), 1.28x faster on a Zen 4 EPYC, and 1.16x slower on an Intel Xeon, where MKL
    is Intel's own (docs/training.md). Another value is returned as it is."""
    if matmul != "auto":
        return matmul
    return "onednn" if _ONEDNN_LINEAR is not None and cpu_vendor() == "AuthenticAMD" else "torch"


def matmul_record(*nets: nn.Module) -> str:
    """For a run's log: which library multiplies these built networks' fully connected layers on
    the CPU (read from the layers themselves, so a family that ignores ``model.matmul`` is not
    credited with oneDNN) and the CPU vendor that ``"auto"`` went by."""
    library = "oneDNN" if any(isinstance(m, OneDNNLinear) for net in nets for m in net.modules()) else "torch's default"
    return f"fully connected products by {library} (model.matmul=auto, CPU vendor {cpu_vendor() or 'unknown'})"


def linear_layer(width_in: int, width_out: int, matmul: str = "torch") -> nn.Module:
    """``nn.Linear`` (``matmul="torch"``), the same layer with oneDNN's products (``"onednn"``),
    or whichever of the two is faster on this CPU's vendor (``"auto"``, :func:`resolve_matmul`)."""
    return LINEARS[resolve_matmul(matmul)](width_in, width_out)


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

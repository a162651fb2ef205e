"""Metrics for paired outputs (an output and the target it should equal) and the baselines
every table of an image-to-image model shows beside it.

- **PSNR** = 10·log10(L² / MSE), L the stated data range (1 for images on [0,1]), per image,
  then averaged; an exact copy (MSE 0) is capped at :data:`PSNR_CAP` dB so one blank
  image does not make the mean infinite.
- **SSIM** (Wang et al. 2004): an 11×11 Gaussian window of σ 1.5, K1 = 0.01, K2 = 0.03,
  population (not sample) covariances, the mean of the SSIM map over the positions where the
  window fits inside the image, and the mean over channels -- scikit-image's
  ``structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``,
  which the tests check against. Written with ``conv2d`` because it runs batched in torch
  (scikit-image is a test-only dependency and loops over images).
- **L1**: mean absolute difference on [0,1].
- For super-resolution a border of K pixels (the scale factor) is cropped first, as SR papers
  do (e.g. Ledig et al. 2017, §3.1, after Dong et al. 2016).
- **Identity preserved** (digits): the share of outputs the shipped MNIST classifier assigns
  to the target's label.

Images are float tensors (N,C,H,W) on [0,1], or uint8 arrays converted by :func:`to_unit`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

PSNR_CAP = 100.0
SSIM_WINDOW, SSIM_SIGMA = 11, 1.5


def to_unit(x) -> torch.Tensor:
    """uint8 (N,H,W)/(N,H,W,C) arrays or float tensors in [-1,1] (N,C,H,W) -> float64 (N,C,H,W) on [0,1]."""
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x)).double() / 255.0
        return t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2)
    return ((x.double() + 1) / 2).clamp(0, 1)


def crop_border(x: torch.Tensor, border: int) -> torch.Tensor:
    return x[..., border:x.shape[-2] - border, border:x.shape[-1] - border] if border else x


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, border: int = 0,
         cap: float | None = PSNR_CAP) -> torch.Tensor:
    """(N,) PSNR in dB of each image of ``x`` against ``y`` (N,C,H,W)."""
    x, y = crop_border(x, border), crop_border(y, border)
    mse = ((x.double() - y.double()) ** 2).flatten(1).mean(1)
    db = 10 * torch.log10(data_range ** 2 / mse)
    return db.clamp(max=cap) if cap is not None else db


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """(size, size) float64 Gaussian weights summing to 1."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, border: int = 0) -> torch.Tensor:
    """(N,) mean SSIM of each image of ``x`` against ``y`` (N,C,H,W); NaN when an image
    (after the border crop) is smaller than the 11×11 window."""
    x, y = crop_border(x, border).double(), crop_border(y, border).double()
    n, c, h, w = x.shape
    if h < SSIM_WINDOW or w < SSIM_WINDOW:
        return torch.full((n,), math.nan, dtype=torch.float64)
    win = gaussian_window().to(x.device).expand(c, 1, SSIM_WINDOW, SSIM_WINDOW)

    def blur(t):  # "valid" positions only: the window never leaves the image
        return F.conv2d(t, win, groups=c)

    mx, my = blur(x), blur(y)
    vx, vy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2
    cxy = blur(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def l1(x: torch.Tensor, y: torch.Tensor, border: int = 0) -> torch.Tensor:
    """(N,) mean absolute difference of each image."""
    return (crop_border(x, border).double() - crop_border(y, border).double()).abs().flatten(1).mean(1)


def upsample(x: torch.Tensor, factor: int, mode: str) -> torch.Tensor:
    """The SR baselines: inputs (N,C,h,w) in [-1,1] upsampled by ``factor`` with "nearest" or
    "bicubic" (torch's, a = -0.75, as OpenCV/PIL use), clamped to [-1,1]."""
    if mode == "nearest":
        return F.interpolate(x, scale_factor=factor, mode="nearest")
    return F.interpolate(x, scale_factor=factor, mode="bicubic", align_corners=False).clamp(-1, 1)


def as_target_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """The "input itself" baseline compared with a target of ``channels``: a grey input repeated to RGB."""
    return x.expand(-1, channels, -1, -1) if x.shape[1] == 1 and channels != 1 else x


def identity_preserved(outputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of outputs (N,1,28,28) in [-1,1] the shipped MNIST classifier puts in the target's class."""
    from ganforge.eval.extractor import load_extractor

    model = load_extractor(dataset="mnist").model
    with torch.no_grad():
        pred = torch.cat([model(outputs[i:i + 1000].float().cpu()).argmax(1) for i in range(0, len(outputs), 1000)])
    return float((pred == labels.cpu()).double().mean())


def paired_scores(outputs: torch.Tensor, targets: torch.Tensor, *, border: int = 0,
                  labels: torch.Tensor | None = None) -> dict:
    """PSNR (dB), SSIM, L1 of outputs against targets (both (N,C,H,W) in [-1,1]); plus
    identity preserved when ``labels`` are given and the images are 28×28 grey digits."""
    a, b = to_unit(outputs), to_unit(targets)
    row = {"psnr": float(psnr(a, b, 1.0, border).mean()), "l1": float(l1(a, b, border).mean())}
    s = ssim(a, b, 1.0, border)
    row["ssim"] = None if torch.isnan(s).any() else float(s.mean())
    if labels is not None and tuple(outputs.shape[1:]) == (1, 28, 28):
        row["identity"] = identity_preserved(outputs, labels)
    return row


def baselines(inputs: torch.Tensor, target_shape: tuple[int, ...], scale: int) -> dict[str, torch.Tensor]:
    """name -> the baseline's outputs (N,*target_shape) in [-1,1]: nearest and bicubic
    upsampling for super-resolution (scale > 1), the input itself for translation."""
    if scale > 1:
        return {"nearest": upsample(inputs, scale, "nearest"), "bicubic": upsample(inputs, scale, "bicubic")}
    return {"input": as_target_channels(inputs, target_shape[0])}


PROTOCOL = (f"PSNR (dB, data range 1 on [0,1], mean of per-image values capped at {PSNR_CAP:g}), SSIM "
            f"({SSIM_WINDOW}x{SSIM_WINDOW} Gaussian window, sigma {SSIM_SIGMA}, K1 0.01, K2 0.03, valid positions, "
            "mean over channels), L1 on [0,1]; super-resolution crops a border of K pixels (the scale factor); "
            "identity = share of outputs the shipped MNIST classifier assigns to the target's label")


def evaluate_paired(source, n: int | None = None, *, fid: bool = True, batch_size: int = 500) -> dict:
    """The paired table of an image-to-image run (a run directory or checkpoint of kind srgan
    or pix2pix) on the first ``n`` pairs of its test split (all when None): one row per method
    -- the baselines (nearest and bicubic upsampling for SR, the input itself for
    translation), for SRGAN the MSE-only SRResNet kept in the checkpoint, then the model --
    with PSNR, SSIM, L1, identity preserved (digits with labels) and, for 28×28 grey images,
    FID against the test targets in the shipped MNIST extractor's feature space."""
    from ganforge.errors import ConfigError
    from ganforge.translate import load_translator

    T = load_translator(source)
    info = T.test_pairs()
    x, t, labels = info.test(n)
    scale = info.scale
    methods = dict(baselines(x, info.target_shape, scale))
    model = T.kind
    if T.kind == "srgan":
        try:
            methods["srresnet (MSE)"] = load_translator(source, net="G_mse").translate(x, batch_size)
        except ConfigError:
            model = "srresnet (MSE)"  # saved before the GAN phase began: G itself is the SRResNet
    methods[model] = T.translate(x, batch_size)
    digits = tuple(info.target_shape) == (1, 28, 28)
    ref_features = None
    if fid and digits:
        from ganforge.eval.extractor import extract
        from ganforge.eval.metrics import fid_from_features
        from ganforge.sampler import to_uint8_images

        ref_features, _ = extract(to_uint8_images(t))
    rows = {}
    for name, out in methods.items():
        row = paired_scores(out, t, border=scale if scale > 1 else 0, labels=labels)
        if ref_features is not None:
            row["fid"] = fid_from_features(extract(to_uint8_images(out.float()))[0], ref_features)
        rows[name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
    return {"source": str(source), "kind": T.kind, "pairs": T.pairs, "n": len(t), "scale": scale,
            "protocol": PROTOCOL + ("; FID against the test targets in the MNIST extractor's space" if
                                    ref_features is not None else ""), "rows": rows}


def paired_table(report: dict) -> str:
    """The report of :func:`evaluate_paired` as a plain-text table, one method per row."""
    cols = [c for c in ("psnr", "ssim", "l1", "identity", "fid") if any(c in r for r in report["rows"].values())]
    head = f"{'method':<16}" + "".join(f"{c:>10}" for c in cols)
    lines = [f"{report['kind']} ({report['pairs']}) on {report['n']} test pairs", head, "-" * len(head)]
    for name, r in report["rows"].items():
        cells = "".join(f"{'n/a' if r.get(c) is None else format(r[c], '.4f'):>10}" for c in cols)
        lines.append(f"{name:<16}{cells}")
    lines.append(f"protocol: {report['protocol']}")
    return "\n".join(lines)


def image_to_image_kind(source) -> str | None:
    """"srgan"/"pix2pix" when ``source`` is a run directory or checkpoint of those kinds, else None (never raises)."""
    from ganforge import checkpoint

    try:
        state = checkpoint.load_state(checkpoint.resolve(source))
        kind = state.get("kind") or state.get("config", {}).get("kind")
    except Exception:  # not a checkpoint: an array, a folder ... (evaluate's own checks report those)
        return None
    return kind if kind in ("srgan", "pix2pix") else None

"""PSNR, SSIM and L1 of paired outputs against hand-computed values and scikit-image."""

import math

import numpy as np
import pytest
import torch

from ganforge.eval.paired import baselines, gaussian_window, l1, paired_scores, psnr, ssim, to_unit

skimage_metrics = pytest.importorskip("skimage.metrics")


def test_psnr_and_l1_against_hand_values():
    x = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    y = x.clone()
    y[0, 0, 0, 0] = 0.5  # MSE = 0.25 / 16 -> PSNR = 10 log10(64) = 18.0618 dB
    assert psnr(y, x).item() == pytest.approx(10 * math.log10(64), abs=1e-9)
    assert l1(y, x).item() == pytest.approx(0.5 / 16)
    assert psnr(x, x).item() == 100.0 and psnr(x, x, cap=None).item() == math.inf
    # a border crop of 1 leaves the 2x2 centre, untouched by the change
    assert psnr(y, x, border=1).item() == 100.0


def test_ssim_against_hand_values():
    x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(ssim(x, x), torch.ones(2, dtype=torch.float64))
    # constant images a and b: SSIM = (2ab + C1) / (a² + b² + C1) (no variance terms)
    a, b, c1 = 0.2, 0.6, 0.01 ** 2
    s = ssim(torch.full((1, 1, 11, 11), a, dtype=torch.float64), torch.full((1, 1, 11, 11), b, dtype=torch.float64))
    assert s.item() == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-9)
    assert gaussian_window().sum().item() == pytest.approx(1.0)
    assert torch.isnan(ssim(x[:, :, :8, :8], x[:, :, :8, :8])).all()  # smaller than the window


@pytest.mark.parametrize("channels", [1, 3])
def test_psnr_and_ssim_match_scikit_image(channels):
    rng = np.random.default_rng(channels)
    for _ in range(3):
        a = rng.integers(0, 256, (24, 20, channels), dtype=np.uint8)
        b = np.clip(a.astype(int) + rng.integers(-40, 41, a.shape), 0, 255).astype(np.uint8)
        ta, tb = to_unit(a[None]), to_unit(b[None])
        fa, fb = a / 255.0, b / 255.0
        ref_psnr = skimage_metrics.peak_signal_noise_ratio(fb, fa, data_range=1.0)
        ref_ssim = skimage_metrics.structural_similarity(
            fa, fb, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=2)
        assert psnr(tb, ta).item() == pytest.approx(ref_psnr, abs=1e-9)
        assert ssim(ta, tb).item() == pytest.approx(ref_ssim, abs=1e-9)


def test_scores_and_baselines():
    rng = torch.Generator().manual_seed(1)
    t = torch.rand(3, 1, 28, 28, generator=rng) * 2 - 1
    lo = torch.nn.functional.avg_pool2d(t, 4)
    b = baselines(lo, (1, 28, 28), 4)
    assert set(b) == {"nearest", "bicubic"} and b["bicubic"].shape == t.shape
    row = paired_scores(b["bicubic"], t, border=4)
    assert row["psnr"] < 100 and 0 < row["ssim"] < 1 and row["l1"] > 0
    assert paired_scores(t, t)["psnr"] == 100.0
    gray = baselines(t, (3, 28, 28), 1)["input"]
    assert gray.shape == (3, 3, 28, 28)

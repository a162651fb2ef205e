import math

import numpy as np
import pytest
import torch

from ganforge.latent.properties import measure, property_scorer, slant_degrees, to_ink


def _canvas():
    return np.zeros((28, 28), np.uint8)


def test_rectangle_ink_width_thickness_slant():
    img = _canvas()
    img[4:24, 10:13] = 255  # an upright bar: 20 rows x 3 columns
    p = measure(img[None])
    assert p["ink"][0] == pytest.approx(60.0)
    assert p["width"][0] == pytest.approx(3.0, abs=1e-9)
    assert p["thickness"][0] == pytest.approx(3.0, abs=1e-6)
    assert p["slant"][0] == pytest.approx(0.0, abs=1e-9)


def test_other_rectangles_give_their_thickness():
    for t, L in [(1, 15), (2, 20), (4, 12)]:
        img = _canvas()
        img[2:2 + L, 5:5 + t] = 255
        assert measure(img[None])["thickness"][0] == pytest.approx(t, abs=1e-6)
        img2 = _canvas()
        img2[5:5 + t, 2:2 + L] = 255  # lying down: same thickness
        assert measure(img2[None])["thickness"][0] == pytest.approx(t, abs=1e-6)


def test_sheared_bar_has_known_slant_and_keeps_its_width():
    img = _canvas()
    for r in range(4, 24):  # top leans right: one column right every two rows up
        c = 10 + (24 - r) // 2
        img[r, c:c + 3] = 255
    p = measure(img[None])
    # shear = 0.5 col per row up, up to the integer staircase; exact value from the moments
    assert p["slant"][0] == pytest.approx(slant_degrees(0.5), abs=1.5)
    assert p["slant"][0] > 20
    assert p["width"][0] == pytest.approx(3.0, abs=0.2)  # deslanted width of the 3-wide bar
    left = img[:, ::-1]
    assert measure(left[None])["slant"][0] == pytest.approx(-p["slant"][0])


def test_ranges_and_scaling():
    img = _canvas()
    img[10:14, 10:14] = 255
    u8 = measure(img[None])
    tanh = measure(torch.from_numpy(img[None, None]).float() / 127.5 - 1, "tanh")
    sig = measure(torch.from_numpy(img[None, None]).float() / 255, "sigmoid")
    for k in u8:
        assert tanh[k][0] == pytest.approx(u8[k][0]) and sig[k][0] == pytest.approx(u8[k][0])
    assert to_ink(img[None]).max() == 1.0


def test_scorers_are_differentiable():
    x = (torch.rand(2, 1, 8, 8) * 2 - 1).requires_grad_(True)
    for name in ("ink", "thickness", "slant", "width"):
        s = property_scorer(name)(x)
        assert s.shape == (2,)
        (g,) = torch.autograd.grad(s.sum(), x)
        assert torch.isfinite(g).all() and g.abs().sum() > 0
    assert torch.allclose(property_scorer("ink", sign=-1)(x), -property_scorer("ink")(x))

"""Every loss against values computed by hand on small logit tensors, and the penalties
against critics whose input gradient is known in closed form."""

import math

import pytest
import torch

from ganforge.config import LossConfig
from ganforge.errors import ConfigError
from ganforge.losses import (
    D_LOSSES, G_LOSSES, PENALTIES, bce_d_loss, gradient_penalty, hinge_d_loss, lsgan_d_loss, lsgan_g_loss,
    nonsaturating_g_loss, r1_penalty, relativistic_d_loss, relativistic_g_loss, saturating_g_loss, wasserstein_d_loss,
    wasserstein_g_loss,
)

LN3 = math.log(3.0)
# logits 0, ln 3, -ln 3 are the probabilities 1/2, 3/4, 1/4
REAL = torch.tensor([0.0, LN3])
FAKE = torch.tensor([0.0, -LN3])


def close(a, b, tol=1e-6):
    return abs(float(a) - b) < tol


def test_bce_d_loss_hand_computed():
    # real: -log(1/2), -log(3/4); fake: -log(1 - 1/2), -log(1 - 1/4)
    real = (math.log(2) - math.log(0.75)) / 2
    fake = (math.log(2) - math.log(0.75)) / 2
    assert close(bce_d_loss(REAL, FAKE), real + fake)
    assert close(bce_d_loss(REAL, FAKE), math.log(8 / 3))


def test_bce_label_smoothing_is_one_sided():
    s = 0.1
    # real target 0.9: -(0.9 log p + 0.1 log(1-p)) at p = 1/2 and 3/4; fake targets stay 0
    real = (-(0.9 * math.log(0.5) + 0.1 * math.log(0.5)) - (0.9 * math.log(0.75) + 0.1 * math.log(0.25))) / 2
    fake = (math.log(2) - math.log(0.75)) / 2
    assert close(bce_d_loss(REAL, FAKE, label_smoothing=s), real + fake)
    # smoothing only touches the real term: with no real logits' change, the fake part is unchanged
    assert close(bce_d_loss(REAL, FAKE, s) - bce_d_loss(REAL, FAKE), real - math.log(8 / 3) / 2)


def test_saturating_and_nonsaturating_values():
    # E[log(1 - D(G(z)))] at D = 1/2, 3/4: (log 1/2 + log 1/4)/2
    assert close(saturating_g_loss(REAL), (math.log(0.5) + math.log(0.25)) / 2)
    # -E[log D(G(z))]
    assert close(nonsaturating_g_loss(REAL), -(math.log(0.5) + math.log(0.75)) / 2)


def test_saturating_gradient_vanishes_where_nonsaturating_does_not():
    # D rejects the fakes confidently (D(G(z)) = sigmoid(-10) ~ 4.5e-5): Goodfellow et al. 2014, §3
    logits = torch.tensor([-10.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(saturating_g_loss(logits), logits)
    (g_ns,) = torch.autograd.grad(nonsaturating_g_loss(logits), logits)
    assert abs(float(g_sat)) == pytest.approx(torch.sigmoid(torch.tensor(-10.0)).item(), rel=1e-4)
    assert abs(float(g_sat)) < 1e-4
    assert float(g_ns) == pytest.approx(-(1 - torch.sigmoid(torch.tensor(-10.0)).item()), rel=1e-6)
    # both push the fake logit up (the loss falls as D(G(z)) rises)
    assert float(g_sat) < 0 and float(g_ns) < 0


def test_lsgan_values():
    r, f = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # ½·mean((r-1)²) + ½·mean(f²) = ½·2 + ½·2
    assert close(lsgan_d_loss(r, f), 2.0)
    # ½·mean((f-1)²) = ½·mean(1, 1)
    assert close(lsgan_g_loss(f), 0.5)


def test_hinge_values():
    r, f = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 1.0])
    # mean(relu(1 - r)) = (0 + .5 + 2)/3 ; mean(relu(1 + f)) = (0 + 1 + 2)/3
    assert close(hinge_d_loss(r, f), 2.5 / 3 + 1.0)
    assert close(G_LOSSES.get("hinge")(f), -(-2.0 + 0.0 + 1.0) / 3)


def test_wasserstein_values():
    r, f = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 0.0])
    assert close(wasserstein_d_loss(r, f), -0.5 - 3.0)
    assert close(wasserstein_g_loss(f), 0.5)


def test_losses_are_pure_and_accept_real_logits_argument():
    r, f = torch.randn(5), torch.randn(5)
    for name in set(G_LOSSES.names()) - {"relativistic"}:  # the one G loss that needs real scores
        a, b = G_LOSSES.get(name)(f), G_LOSSES.get(name)(f, r)
        assert a.ndim == 0 and torch.equal(a, b)
    assert G_LOSSES.get("relativistic")(f, r).ndim == 0
    for name in D_LOSSES.names():
        assert D_LOSSES.get(name)(r, f).ndim == 0


def test_loss_registry_errors_list_valid_names():
    with pytest.raises(ConfigError, match="valid choices: bce, hinge, lsgan, relativistic, wasserstein"):
        D_LOSSES.get("minimax")
    with pytest.raises(ConfigError, match="hinge, lsgan, nonsaturating, relativistic, saturating, wasserstein"):
        G_LOSSES.get("nope")
    with pytest.raises(ConfigError, match="gp, r1"):
        PENALTIES.get("l2")


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_relativistic_average_losses_hand_computed():
    """RaSGAN: the real logits against the fakes' mean (−ln3/2), the fakes against the reals' mean (ln3/2);
    -log σ(a) = softplus(−a), −log(1 − σ(a)) = softplus(a)."""
    m = LN3 / 2
    d = (softplus(-(0 + m)) + softplus(-(LN3 + m))) / 2 + (softplus(0 - m) + softplus(-LN3 - m)) / 2
    g = (softplus(-(0 - m)) + softplus(-(-LN3 - m))) / 2 + (softplus(0 + m) + softplus(LN3 + m)) / 2
    assert close(relativistic_d_loss(REAL, FAKE), d)
    assert close(relativistic_g_loss(FAKE, REAL), g)
    # every score equal: every relative logit is 0 and each half is log 2, whatever the score
    same = torch.full((3,), 1.5)
    assert close(relativistic_d_loss(same, same), 2 * math.log(2))


def test_relativistic_g_loss_gradient_reaches_the_fakes_through_the_real_half():
    """∂L_G/∂f_i = −σ(−(f_i − m_r))/n − mean_j σ(r_j − m_f)/n: the second part comes from the real
    half of the loss, through the fakes' mean m_f -- what the non-saturating loss lacks."""
    r, f = torch.tensor([0.2, 1.0, -0.4]), torch.tensor([-1.0, 0.3, 0.5], requires_grad=True)
    relativistic_g_loss(f, r).backward()
    n = 3
    want = -torch.sigmoid(-(f.detach() - r.mean())) / n - torch.sigmoid(r - f.detach().mean()).mean() / n
    torch.testing.assert_close(f.grad, want)


def test_relativistic_g_loss_needs_real_logits_and_comes_as_a_pair():
    with pytest.raises(ValueError, match="real_logits"):
        relativistic_g_loss(FAKE)
    for d, g in [("relativistic", "nonsaturating"), ("bce", "relativistic")]:
        with pytest.raises(ConfigError, match="loss.d_loss=relativistic and loss.g_loss=relativistic"):
            LossConfig(d_loss=d, g_loss=g)
    assert LossConfig(d_loss="relativistic", g_loss="relativistic").g_loss == "relativistic"


class LinearCritic(torch.nn.Module):
    """D(x) = w·x + b: its input gradient is w everywhere, so ‖∇D‖ = ‖w‖."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = torch.nn.Parameter(w.clone())
        self.b = torch.nn.Parameter(torch.tensor(0.3))

    def forward(self, x, y=None):
        return x.flatten(1) @ self.w.flatten() + self.b


def test_gradient_penalty_linear_critic_closed_form():
    w = torch.zeros(1, 2, 2)
    w[0, 0, 0], w[0, 1, 1] = 2.0, -2.0 * math.sqrt(2)  # ‖w‖ = sqrt(4 + 8) = sqrt(12)
    D = LinearCritic(w)
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    gp = gradient_penalty(D, real, fake)
    norm = math.sqrt(12)
    assert gp.item() == pytest.approx((norm - 1) ** 2, rel=1e-6)
    # differentiable w.r.t. the critic (create_graph): d/dw (‖w‖-1)² = 2(‖w‖-1) w/‖w‖
    (gw,) = torch.autograd.grad(gp, D.w)
    assert torch.allclose(gw, 2 * (norm - 1) * D.w.detach() / norm, atol=1e-5)


def test_gradient_penalty_is_zero_for_unit_norm_critic():
    w = torch.tensor([0.6, 0.8])
    assert gradient_penalty(LinearCritic(w), torch.randn(4, 2), torch.randn(4, 2)).item() == pytest.approx(0.0, abs=1e-12)


class QuadraticCritic(torch.nn.Module):
    """D(x) = ½‖x‖²: ∇D(x) = x, so each sample's gradient norm is its own norm."""

    def forward(self, x, y=None):
        return 0.5 * x.flatten(1).pow(2).sum(1)


def test_gradient_penalty_uses_per_sample_norms_and_per_sample_eps():
    real = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    # real == fake: x̂ = real whatever ε is; norms 1 and 3 -> mean((0)², (2)²) = 2
    # (one norm over the whole batch would give (√10 - 1)² ≈ 4.68)
    assert gradient_penalty(QuadraticCritic(), real, real.clone()).item() == pytest.approx(2.0)
    # fake = 0: x̂ = ε_i x_i, ‖∇‖ = ε_i ‖x_i‖ with one ε per sample drawn by torch.rand((N, 1))
    torch.manual_seed(7)
    eps = torch.rand(2, 1)
    torch.manual_seed(7)
    gp = gradient_penalty(QuadraticCritic(), real, torch.zeros_like(real))
    expected = ((eps[:, 0] * torch.tensor([1.0, 3.0]) - 1) ** 2).mean()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-6)


def test_r1_linear_critic_closed_form():
    w = torch.tensor([[3.0, 0.0], [0.0, 4.0]])  # ‖w‖² = 25
    D = LinearCritic(w)
    r1 = r1_penalty(D, torch.randn(5, 2, 2))
    assert r1.item() == pytest.approx(0.5 * 25.0)
    (gw,) = torch.autograd.grad(r1, D.w)  # d/dw ½‖w‖² = w
    assert torch.allclose(gw, D.w.detach())


def test_penalties_pass_labels_to_conditional_critics():
    seen = []

    class CondLinear(LinearCritic):
        def forward(self, x, y=None):
            seen.append(y)
            return super().forward(x) + y.float()

    D = CondLinear(torch.tensor([1.0, 1.0]))
    y = torch.tensor([0, 1, 2])
    assert gradient_penalty(D, torch.randn(3, 2), torch.randn(3, 2), y).item() == pytest.approx((math.sqrt(2) - 1) ** 2)
    assert r1_penalty(D, torch.randn(3, 2), None, y).item() == pytest.approx(1.0)
    assert all(s is y for s in seen)

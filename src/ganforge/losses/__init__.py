"""Pure loss functions and penalties, looked up by name."""

from ganforge.losses.adversarial import (
    bce_d_loss, hinge_d_loss, lsgan_d_loss, lsgan_g_loss, nonsaturating_g_loss,
    relativistic_d_loss, relativistic_g_loss, saturating_g_loss, wasserstein_d_loss, wasserstein_g_loss,
)
from ganforge.losses.diversity import mode_seeking_term
from ganforge.losses.penalties import gradient_penalty, r1_penalty
from ganforge.registry import Registry

D_LOSSES: Registry = Registry("discriminator loss")
G_LOSSES: Registry = Registry("generator loss")
PENALTIES: Registry = Registry("penalty")

D_LOSSES.add("bce", bce_d_loss)
D_LOSSES.add("lsgan", lsgan_d_loss)
D_LOSSES.add("hinge", hinge_d_loss)
D_LOSSES.add("wasserstein", wasserstein_d_loss)
D_LOSSES.add("relativistic", relativistic_d_loss)
G_LOSSES.add("saturating", saturating_g_loss)
G_LOSSES.add("nonsaturating", nonsaturating_g_loss)
G_LOSSES.add("lsgan", lsgan_g_loss)
G_LOSSES.add("wasserstein", wasserstein_g_loss)
G_LOSSES.add("hinge", wasserstein_g_loss)  # hinge GANs train G with -E[D(G(z))]
G_LOSSES.add("relativistic", relativistic_g_loss)
PENALTIES.add("gp", gradient_penalty)
PENALTIES.add("r1", r1_penalty)

__all__ = [
    "D_LOSSES", "G_LOSSES", "PENALTIES", "bce_d_loss", "hinge_d_loss", "lsgan_d_loss", "lsgan_g_loss",
    "nonsaturating_g_loss", "relativistic_d_loss", "relativistic_g_loss", "saturating_g_loss",
    "wasserstein_d_loss", "wasserstein_g_loss",
    "gradient_penalty", "r1_penalty", "mode_seeking_term",
]

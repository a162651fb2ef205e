"""Latent-space tools that sit beside ``ganforge.eval`` (DESIGN.md): they read a trained
GAN through ``sampling``/``checkpoint``. The only optimizer they need (Adam over z for
inversion) is ``ganforge.optim.optimize_latents``, beside the other optimizer code and
below the harness, so latent tools never import training; steering takes plain gradient
steps on z.

- :mod:`~ganforge.latent.interpolate`: lerp / slerp, class walks (soft labels), GIFs
- :mod:`~ganforge.latent.invert`: find z with G(z) ≈ an image
- :mod:`~ganforge.latent.steer`: gradient ascent on any differentiable scorer of G(z)
- :mod:`~ganforge.latent.properties`: ink, thickness, slant, width (differentiable)
- :mod:`~ganforge.latent.entangle`: property change tables, latent directions by regression
- :mod:`~ganforge.latent.probe`: the discriminator as a feature extractor
- :mod:`~ganforge.latent.sources`: load G / D / classifiers with one-sentence errors
"""

"""Latent-space tools that sit beside ``ganforge.eval`` (DESIGN.md): they read a trained
GAN through ``sampling``/``checkpoint``. The only optimizer they need (Adam over z for
inversion) lives in ``ganforge.training.latent_opt``, because optimizers live in
``training/``; steering takes plain gradient steps on z.

- :mod:`~ganforge.latent.interpolate`: lerp / slerp, class walks (soft labels), GIFs
- :mod:`~ganforge.latent.invert`: find z with G(z) ≈ an image
- :mod:`~ganforge.latent.steer`: gradient ascent on any differentiable scorer of G(z)
- :mod:`~ganforge.latent.properties`: ink, thickness, slant, width (differentiable)
- :mod:`~ganforge.latent.entangle`: property change tables, latent directions by regression
- :mod:`~ganforge.latent.probe`: the discriminator as a feature extractor
- :mod:`~ganforge.latent.sources`: load G / D / classifiers with one-sentence errors
"""

"""The simple problem: a column of numbers.

* :mod:`~ganforge.onedim.io` — read one numeric column (CSV/TSV/text/.npy, the built-in
  ``student-heights`` dataset), validate it, write D′.
* :mod:`~ganforge.onedim.fit` — candidate families, maximum likelihood with 95 % CIs,
  AIC/BIC, parametric-bootstrap KS and Anderson–Darling tests, D′ sampling.
* :mod:`~ganforge.onedim.compare` — D vs D′: KS, Wasserstein-1, energy, KL/JS (bits)
  with permutation nulls, and the classifier two-sample test (:mod:`ganforge.eval.c2st`).
* :mod:`~ganforge.onedim.plots` — QQ / histogram / CDF PNGs.
* :mod:`~ganforge.onedim.gan` — a 1-D GAN trained by the shared training loop.

Submodules are imported on demand, so ``import ganforge.onedim`` stays cheap.
"""

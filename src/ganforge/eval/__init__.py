"""Evaluation: how similar are generated samples to real ones, and are they new?

``evaluate(source, ref="mnist-test", n=10000)`` returns an :class:`EvalReport` with FID,
KID, classifier score, class shares (mode collapse), precision/recall, density/coverage,
the model-based similarity test (C2ST on features and on pixels, 1-NN), memorisation
(copy rate vs real held-out images) and TSTR for labelled samples, each beside its
real-vs-real floor, plus the protocol that produced them. ``quick_fid(G)`` is the cheap
check for ``--eval-every`` during training.

Feature space: the shipped MNIST classifier for 28x28 grayscale images, or the FID
InceptionV3 (``ganforge.eval.inception``) from a local weights file passed as
``evaluate(..., inception_weights=PATH)`` for any images.

Settings can travel as one :class:`EvalOptions` (``evaluate(source, options=...)``).
Modules: ``options`` (settings), ``sources`` (reference, training and sample images),
``features`` (feature space, cached reference features), ``compute`` (the metrics),
``floor`` (real-vs-real column), ``evaluate`` (the public call), ``quick`` (``quick_fid``).
"""

from ganforge.eval.evaluate import evaluate
from ganforge.eval.options import EvalOptions
from ganforge.eval.quick import quick_fid, reference_statistics
from ganforge.eval.report import EvalReport, MetricValue, Protocol, aggregate

__all__ = ["evaluate", "EvalOptions", "quick_fid", "reference_statistics", "EvalReport", "MetricValue", "Protocol", "aggregate"]

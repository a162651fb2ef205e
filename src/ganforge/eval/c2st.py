"""The model-based similarity test: a classifier two-sample test (C2ST).

Train a classifier to tell sample A (label 0) from sample B (label 1) and measure its
**held-out** accuracy (Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests",
ICLR 2017). If A and B come from the same distribution no classifier can beat chance,
so the accuracy is ≈ 0.5; the further above 0.5, the more different they are. This is
the GAN discriminator turned into a metric (lecture: "if the model is able to separate
well ⇒ D and D′ are different").

Works on any arrays shaped ``(N, ...)``: a 1-D column (N,), features (N, d) or images
(N, H, W[, C]) are flattened to (N, -1). Classes are balanced by subsampling the larger
sample (seeded), so chance is exactly 0.5.

p-values:

* ``"binomial"`` (default, free): the pooled cross-validated predictions are counted as
  Binomial(N, 1/2) under H0. Every prediction is made by a model that never saw that
  point, but folds share training data, so this is the usual approximation of the
  literature (it is exact for a single train/test split).
* ``"permutation"``: the whole cross-validation is re-run ``n_perm`` times with the labels
  shuffled; p = (1 + #{acc* >= acc}) / (1 + n_perm). Exact, ``n_perm`` times the cost.

Classifiers: ``logistic`` (linear; in 1-D it sees only a location shift), ``knn``
(k ≈ √n, a local density-ratio estimate: sees any difference in low dimension), ``mlp``
and ``gbdt`` (HistGradientBoosting; on a busy shared CPU run with OMP_NUM_THREADS=1).

Example::

    from ganforge.eval.c2st import c2st
    r = c2st(real_images, fake_images, classifier="logistic")   # (N, 28, 28) arrays
    print(r.accuracy, r.p_value, r.summary())
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ganforge.errors import ConfigError, DataError

CLASSIFIERS = ("logistic", "knn", "mlp", "gbdt")


@dataclass
class C2STResult:
    """Outcome of :func:`c2st`.

    ``accuracy``: pooled held-out accuracy in [0, 1] (0.5 = indistinguishable).
    ``accuracy_std``: standard deviation of the per-fold accuracies.
    ``p_value``: one-sided, H0 "same distribution" (accuracy not above chance).
    ``n_a``/``n_b``: sizes given; ``n_used``: per-class size after balancing.
    ``auc``: held-out ROC AUC from the same predictions (None if the classifier has no
    scores). ``method``: how the p-value was obtained.
    """

    accuracy: float
    accuracy_std: float
    p_value: float
    n_a: int
    n_b: int
    n_used: int
    classifier: str
    cv: int
    method: str
    n_perm: int = 0
    auc: float | None = None
    fold_accuracies: list[float] = field(default_factory=list)
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One sentence for a report."""
        judged = "distinguishable" if self.p_value < 0.05 else "not distinguishable"
        return (f"a {self.classifier} classifier tells the samples apart with held-out accuracy "
                f"{self.accuracy:.3f} ± {self.accuracy_std:.3f} (chance 0.5; {self.cv}-fold CV, "
                f"n = {self.n_used} per class, {self.method} p = {self.p_value:.3g}): {judged} at 5 %.")


def make_classifier(name: str, n_train: int, seed: int = 0):
    """The named classifier as an sklearn pipeline (features standardised first)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "logistic":
        from sklearn.linear_model import LogisticRegression

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    if name == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        # k ~ sqrt(n): the kNN class-probability estimate is consistent when k → ∞ and k/n → 0
        k = max(3, int(round(math.sqrt(n_train))) | 1)
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k))
    if name == "mlp":
        from sklearn.neural_network import MLPClassifier

        return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=500,
                                                             early_stopping=True, random_state=seed))
    if name == "gbdt":
        from sklearn.ensemble import HistGradientBoostingClassifier

        # small trees: a C2ST needs a detector, not a leaderboard model. Its OpenMP threads
        # spin on a busy shared CPU (measured: 43 s vs 2.5 s with OMP_NUM_THREADS=1 for
        # 2 x 500 points on 2 loaded cores); set OMP_NUM_THREADS=1 there.
        return HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=8, early_stopping=False, random_state=seed)
    raise ConfigError(f"unknown classifier '{name}'; choose one of {', '.join(CLASSIFIERS)} or pass an sklearn estimator.")


def _as_matrix(x, which: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim == 0 or len(a) == 0:
        raise DataError(f"sample {which} is empty; give an array shaped (N, ...) with N >= 2.")
    if not np.issubdtype(a.dtype, np.number) and a.dtype != bool:
        raise DataError(f"sample {which} holds {a.dtype} values; give a numeric array.")
    a = a.reshape(len(a), -1).astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise DataError(f"sample {which} contains NaN or inf; remove those rows first.")
    return a


def c2st(
    a, b, *, classifier="logistic", cv: int = 5, seed: int = 0, p_value: str = "binomial", n_perm: int = 100,
    max_per_class: int | None = None,
) -> C2STResult:
    """Classifier two-sample test of samples ``a`` (N_a, ...) and ``b`` (N_b, ...).

    ``classifier``: ``"logistic" | "knn" | "mlp" | "gbdt"`` or any sklearn classifier
    (cloned, never modified). ``cv``: number of stratified folds; every point is
    predicted once by a model not trained on it. ``p_value``: ``"binomial"`` or
    ``"permutation"`` (``n_perm`` label shuffles). ``max_per_class``: subsample each
    class to at most this many rows (speed on big image sets). Deterministic given ``seed``.
    """
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    A, B = _as_matrix(a, "A"), _as_matrix(b, "B")
    if A.shape[1] != B.shape[1]:
        raise DataError(f"samples have different shapes per item ({np.asarray(a).shape[1:]} vs "
                        f"{np.asarray(b).shape[1:]}); compare like with like.")
    if cv < 2:
        raise ConfigError(f"cv must be at least 2 (got {cv}); 5 is usual.")
    if p_value not in ("binomial", "permutation"):
        raise ConfigError(f"p_value must be 'binomial' or 'permutation', not {p_value!r}.")
    rng = np.random.default_rng(seed)
    m = min(len(A), len(B))
    if max_per_class is not None:
        m = min(m, int(max_per_class))
    if m < cv:
        raise DataError(f"each sample needs at least {cv} rows for {cv}-fold cross-validation (got {m}).")
    A = A[rng.permutation(len(A))[:m]]
    B = B[rng.permutation(len(B))[:m]]
    X = np.concatenate([A, B])
    y = np.r_[np.zeros(m, dtype=int), np.ones(m, dtype=int)]
    n_train = int(2 * m * (cv - 1) / cv)
    if isinstance(classifier, str):
        est, cname = make_classifier(classifier, n_train, seed), classifier
    else:
        est, cname = clone(classifier), type(classifier).__name__
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)

    has_proba = hasattr(est, "predict_proba")

    def run(labels):
        # one CV pass: with predict_proba the label is argmax of the held-out probability,
        # so the AUC comes for free
        if has_proba:
            s = cross_val_predict(clone(est), X, labels, cv=folds, method="predict_proba")[:, 1]
            return (s > 0.5).astype(int), s
        return cross_val_predict(clone(est), X, labels, cv=folds, method="predict"), None

    pred, score = run(y)
    correct = pred == y
    acc = float(correct.mean())
    fold_acc = [float(correct[test].mean()) for _, test in folds.split(X, y)]
    auc = float(roc_auc_score(y, score)) if score is not None else None
    if p_value == "binomial":
        from scipy.stats import binomtest

        p = float(binomtest(int(correct.sum()), len(y), 0.5, alternative="greater").pvalue)
        method, used_perm = "binomial", 0
    else:
        null = []
        for _ in range(n_perm):
            yp = rng.permutation(y)
            null.append(float((run(yp)[0] == yp).mean()))
        p = (1 + sum(v >= acc - 1e-12 for v in null)) / (1 + n_perm)
        method, used_perm = "permutation", n_perm
    return C2STResult(
        accuracy=acc, accuracy_std=float(np.std(fold_acc)), p_value=p, n_a=len(np.asarray(a)), n_b=len(np.asarray(b)),
        n_used=m, classifier=cname, cv=cv, method=method, n_perm=used_perm, auc=auc, fold_accuracies=fold_acc,
        seed=seed,
    )

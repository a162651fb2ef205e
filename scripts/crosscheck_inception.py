"""Cross-check ``ganforge.eval.inception`` against torch-fidelity's InceptionV3 (same weights).

torch-fidelity's ``FeatureExtractorInceptionV3`` is the network torchmetrics' FID and
Inception Score use. The real 2015-12-05 weights cannot be downloaded offline, so this
script gives both implementations the SAME random weights and compares what they compute:

1. build ganforge's ``FIDInceptionV3`` and randomise every parameter *and* the BatchNorm
   running statistics (fixed seed; conv weights He-scaled, BN gamma ~ 1 + 0.1 N(0,1),
   beta and running_mean ~ 0.1 N(0,1), running_var = exp(0.2 N(0,1)) > 0, fc ~ N(0, 1/2048));
2. save it as torch-fidelity's weights file is laid out (the 472 tensors of its TF->PyTorch
   name map, no ``num_batches_tracked``), checking that the key set equals torch-fidelity's;
3. load that file in torch-fidelity (``feature_extractor_weights_path=``) and in ganforge
   (``load_inception(path)``);
4. push a few smooth random uint8 images of 299x299 (RGB), 64x64 (RGB) and 28x28
   (grayscale, repeated to RGB as ganforge does) through both and print, for pool3 (2048-d)
   and the bias-free logits (torch-fidelity's ``logits_unbiased`` vs ganforge's
   ``unbiased_logits``), the max absolute and relative differences for:

   * ``network``: ganforge's network fed torch-fidelity's own preprocessed tensor (its
     TF1-style bilinear resize, then ``(x - 128) / 128``): isolates the network;
   * ``network f64``: the same at 299x299 with both networks in float64 (torch-fidelity's
     extractor cast with ``.double()``: in 0.4.0 its ``feature_extractor_internal_dtype=
     "float64"`` maps to float32 in ``helpers.text_to_dtype``; it returns float32 features);
   * ``f32 round-off``: ganforge in float64 vs torch-fidelity in float32, for scale;
   * ``resize only``: ganforge's resize (pytorch-fid's ``F.interpolate`` bilinear,
     ``align_corners=False``) with torch-fidelity's normalisation;
   * ``full pipeline``: ``ganforge.eval.inception.inception_features`` (pytorch-fid recipe:
     ``F.interpolate`` then ``2 x / 255 - 1``) vs torch-fidelity's forward on uint8.

   The ``input`` column is the max difference of the two preprocessed 299x299 tensors.
5. compare the score formulas on identical inputs: ganforge's ``inception_score`` with
   torch-fidelity's ``isc_features_to_metric`` (on torch-fidelity's logits and on random
   logits), ganforge's ``fid_from_features`` with torch-fidelity's
   ``fid_features_to_statistics`` + ``fid_statistics_to_metric`` (Inception features and
   full-rank random 2048-d features).

torch-fidelity is not a ganforge dependency; install it beside the project, without its
dependencies (it would pull torchvision), and point the script at it:

    pip download --no-deps torch-fidelity -d /tmp/tfid
    pip install --no-deps --target /tmp/tfid_site /tmp/tfid/torch_fidelity-*.whl
    .venv/bin/python scripts/crosscheck_inception.py --tfid-site /tmp/tfid_site

torch-fidelity's package ``__init__`` imports torchvision (via its registry, datasets and
utils modules), which is not installed. The script therefore registers a bare package
object for ``torch_fidelity`` (its ``__path__`` is the installed folder, its ``__init__`` is
not run) and imports only ``feature_extractor_inceptionv3`` (needs torch only),
``metric_isc`` and ``metric_fid``. The last two do ``from torch_fidelity.utils import ...``
at module level; ``torch_fidelity.utils`` is replaced by a stub holding placeholders for
exactly those names, none of which the feature-level functions used here call.

Runs on one CPU thread in about a minute (~60 Inception forwards at 299x299). Exit status
1 when a network row differs by more than ``--tol`` (relative) or a score differs by more
than 1e-6 relative.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from ganforge.eval import inception as I  # noqa: E402
from ganforge.eval.metrics import fid_from_features  # noqa: E402


# ----------------------------------------------------------------------------- torch-fidelity
def import_torch_fidelity(site: str | None):
    """(inception module, metric_isc, metric_fid, version) without torch-fidelity's
    ``__init__`` (which imports torchvision); see the module docstring."""
    if site:
        sys.path.insert(0, site)
    spec = importlib.util.find_spec("torch_fidelity")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("torch-fidelity not found: see the docstring for the --no-deps install, then pass --tfid-site")
    pkg = types.ModuleType("torch_fidelity")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["torch_fidelity"] = pkg
    stub = types.ModuleType("torch_fidelity.utils")  # the torchvision-importing module, stubbed

    def _unavailable(*args, **kwargs):
        raise RuntimeError("torch_fidelity.utils is stubbed in this cross-check")

    for name in ("get_cacheable_input_name", "cache_lookup_one_recompute_on_miss",
                 "extract_featuresdict_from_input_id_cached", "create_feature_extractor",
                 "resolve_feature_extractor", "resolve_feature_layer_for_metric"):
        setattr(stub, name, _unavailable)
    sys.modules["torch_fidelity.utils"] = stub
    inc = importlib.import_module("torch_fidelity.feature_extractor_inceptionv3")
    isc = importlib.import_module("torch_fidelity.metric_isc")
    fid = importlib.import_module("torch_fidelity.metric_fid")
    version = importlib.import_module("torch_fidelity.version").__version__
    return inc, isc, fid, version


# ----------------------------------------------------------------------------- weights + images
@torch.no_grad()
def random_weights(seed: int) -> dict[str, torch.Tensor]:
    """All parameters and BatchNorm statistics random (see the docstring), in the key
    layout of torch-fidelity's weights file (no ``num_batches_tracked``)."""
    g = torch.Generator().manual_seed(seed)
    model = I.FIDInceptionV3()

    def randn(t):
        return torch.randn(t.shape, generator=g, dtype=t.dtype)

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.weight.copy_(randn(m.weight) * math.sqrt(2.0 / m.weight[0].numel()))
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(1.0 + 0.1 * randn(m.weight))
            m.bias.copy_(0.1 * randn(m.bias))
            m.running_mean.copy_(0.1 * randn(m.running_mean))
            m.running_var.copy_(torch.exp(0.2 * randn(m.running_var)))
        elif isinstance(m, nn.Linear):
            m.weight.copy_(randn(m.weight) / math.sqrt(m.in_features))
            m.bias.copy_(0.1 * randn(m.bias))
    return {k: v.clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def smooth_images(n: int, size: int, seed: int, gray: bool) -> np.ndarray:
    """uint8 (n,size,size[,3]): random 8x8 colours, bicubic-upsampled, plus mild noise
    (natural-looking gradients and edges rather than white noise)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    c = 1 if gray else 3
    out = []
    for _ in range(n):
        small = rng.integers(0, 256, (8, 8, c), dtype=np.uint8)
        big = Image.fromarray(small[..., 0] if gray else small).resize((size, size), Image.Resampling.BICUBIC)
        arr = np.asarray(big).astype(np.int16) + rng.integers(-8, 9, (size, size) if gray else (size, size, 3))
        out.append(np.clip(arr, 0, 255).astype(np.uint8))
    return np.stack(out)


# ----------------------------------------------------------------------------- comparisons
def diffs(a, b) -> tuple[float, float]:
    """(max |a-b|, ||a-b|| / ||b||) with b the torch-fidelity reference."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max()), float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tfid-site", default=os.environ.get("TFID_SITE", "/tmp/tfid_site"),
                    help="folder torch-fidelity was installed into with --target (default /tmp/tfid_site)")
    ap.add_argument("-n", "--n-images", type=int, default=4, help="images per size (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-4, help="relative tolerance of the network rows")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()

    tf_inc, tf_isc, tf_fid, tf_version = import_torch_fidelity(args.tfid_site)
    print(f"torch-fidelity {tf_version} from {Path(tf_inc.__file__).parent}; torch {torch.__version__}; "
          f"seed {args.seed}; {args.n_images} images per size")

    state = random_weights(args.seed)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / I.TORCH_FIDELITY_FILE
        torch.save(state, path)

        def tfid(dtype=None):
            return tf_inc.FeatureExtractorInceptionV3(
                "inception-v3-compat", ["2048", "logits_unbiased"],
                feature_extractor_weights_path=str(path), feature_extractor_internal_dtype=dtype)

        tf32 = tfid()
        # torch-fidelity 0.4.0's text_to_dtype maps "float64" to torch.float32, so its
        # feature_extractor_internal_dtype="float64" still runs in float32; cast by hand.
        tf64 = tfid("float64").double()
        tf64.feature_extractor_internal_dtype = torch.float64
        tf_keys = {k for k in tf32.state_dict() if not k.endswith("num_batches_tracked")}
        if tf_keys != set(state) or len(state) != 472:
            print(f"KEY MISMATCH: only ganforge {sorted(set(state) - tf_keys)[:5]}, "
                  f"only torch-fidelity {sorted(tf_keys - set(state))[:5]}")
            return 1
        ext = I.load_inception(path)
        net = ext.model
        net64 = I.FIDInceptionV3()
        net64.load_state_dict(I.map_state_dict_keys(state), strict=False)
        net64 = net64.double().eval()
        print(f"weights: {len(state)} tensors in torch-fidelity's layout, key set identical to "
              f"FeatureExtractorInceptionV3's; loaded by both (ganforge kind={ext.kind}, logits={ext.has_logits})")

        rows, all_tf_logits, tf_feats_by_size = [], [], {}
        for size, gray in ((299, False), (64, False), (28, True)):
            imgs = smooth_images(args.n_images, size, args.seed + size, gray)
            rgb = I._as_rgb_uint8(imgs)                       # grayscale -> RGB as ganforge does
            x8 = torch.from_numpy(rgb).permute(0, 3, 1, 2).contiguous()
            with torch.no_grad():
                ref_f, ref_l = (t.numpy() for t in tf32(x8))
                # torch-fidelity's own preprocessing, reproduced with its function
                tf_in = tf_inc.interpolate_bilinear_2d_like_tensorflow1x(
                    x8.float(), size=(I.INPUT_SIZE, I.INPUT_SIZE), align_corners=False)
                tf_in = (tf_in - 128) / 128
                f = net(tf_in)
                rows.append((size, "network", 0.0, diffs(f, ref_f), diffs(net.unbiased_logits(f), ref_l)))
                if size == I.INPUT_SIZE:
                    r64_f, r64_l = (t.numpy() for t in tf64(x8))
                    f64 = net64(tf_in.double())
                    rows.append((size, "network f64", 0.0, diffs(f64.float(), r64_f),
                                 diffs(net64.unbiased_logits(f64).float(), r64_l)))
                    # float32 round-off, for scale: ganforge in float64 vs torch-fidelity in float32
                    rows.append((size, "f32 round-off", 0.0, diffs(f64.float(), ref_f),
                                 diffs(net64.unbiased_logits(f64).float(), ref_l)))
                gf_in01 = F.interpolate(x8.float() / 255.0, size=(I.INPUT_SIZE, I.INPUT_SIZE),
                                        mode="bilinear", align_corners=False)
                if size != I.INPUT_SIZE:
                    rs_in = (gf_in01 * 255.0 - 128) / 128
                    f = net(rs_in)
                    rows.append((size, "resize only", float((rs_in - tf_in).abs().max()), diffs(f, ref_f),
                                 diffs(net.unbiased_logits(f), ref_l)))
            gf_in = I.preprocess_pytorch_fid(rgb)
            gf_f, gf_l = I.inception_features(imgs, ext, progress=False)
            rows.append((size, "full pipeline", float((gf_in - tf_in).abs().max()), diffs(gf_f, ref_f),
                         diffs(gf_l, ref_l)))
            all_tf_logits.append(ref_l)
            tf_feats_by_size[size] = ref_f
            print(f"  {size}x{size}{' gray' if gray else ''}: done ({time.time() - t0:.0f} s; "
                  f"pool3 max {np.abs(ref_f).max():.3g}, mean {ref_f.mean():.3g}; logits max {np.abs(ref_l).max():.3g})")

    print("\n| input | comparison | input max abs diff | pool3 max abs diff | pool3 rel diff "
          "| logits max abs diff | logits rel diff |")
    print("|---|---|---|---|---|---|---|")
    for size, what, din, (fa, fr), (la, lr) in rows:
        print(f"| {size}x{size}{' gray' if size == 28 else ''} | {what} | {din:.2e} | {fa:.2e} | {fr:.2e} "
              f"| {la:.2e} | {lr:.2e} |")
        if what.startswith("network") and max(fr, lr) > args.tol:  # resize/round-off rows: information
            failed = True
    print("(rel diff = ||ganforge - torch-fidelity|| / ||torch-fidelity|| over the whole "
          f"{args.n_images}x2048 or {args.n_images}x1008 matrix)")

    # ---------------------------------------------------------------- score formulas
    print("\nscore formulas on identical inputs (ganforge vs torch-fidelity):")
    logits = np.concatenate(all_tf_logits)
    rng = np.random.default_rng(args.seed)
    rand_logits = (rng.standard_normal((1000, I.NUM_LOGITS)) * 3).astype(np.float32)
    for name, lg in ((f"IS, torch-fidelity logits ({len(logits)} rows)", logits),
                     ("IS, random logits (1000x1008)", rand_logits)):
        g_mean, g_sd = I.inception_score(lg)
        t = tf_isc.isc_features_to_metric(torch.from_numpy(lg))
        t_mean, t_sd = t[tf_isc.KEY_METRIC_ISC_MEAN], t[tf_isc.KEY_METRIC_ISC_STD]
        rel = abs(g_mean - t_mean) / abs(t_mean)
        failed |= rel > 1e-6
        print(f"  {name}: ganforge {g_mean:.10g} ± {g_sd:.6g}, torch-fidelity {t_mean:.10g} ± {t_sd:.6g} "
              f"(rel diff {rel:.1e})")

    def tf_fid_value(a, b):
        sa = tf_fid.fid_features_to_statistics(torch.from_numpy(a))
        sb = tf_fid.fid_features_to_statistics(torch.from_numpy(b))
        return tf_fid.fid_statistics_to_metric(sa, sb, verbose=False)[tf_fid.KEY_METRIC_FID]

    a = np.concatenate([tf_feats_by_size[299], tf_feats_by_size[64]])
    b = tf_feats_by_size[28]
    fa = rng.standard_normal((2500, I.FEATURE_DIM)) @ (np.eye(I.FEATURE_DIM) + 0.02 * rng.standard_normal(
        (I.FEATURE_DIM, I.FEATURE_DIM)))
    fb = rng.standard_normal((2500, I.FEATURE_DIM)) * 1.1 + 0.05
    for name, (x, y), tol in ((f"FID, Inception pool3 ({len(a)} vs {len(b)} rows, singular covariances)", (a, b), 1e-4),
                              ("FID, random full-rank 2048-d (2500 vs 2500 rows)", (fa, fb), 1e-6)):
        g, t = fid_from_features(x, y), tf_fid_value(x, y)
        rel = abs(g - t) / abs(t)
        failed |= rel > tol
        print(f"  {name}: ganforge {g:.10g}, torch-fidelity {t:.10g} (rel diff {rel:.1e})")

    print(f"\n{'FAIL' if failed else 'OK'} ({time.time() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The FID InceptionV3 written in plain torch.nn, loaded from local weights.

No real weights exist offline, so these tests check what can be checked without them:
the state-dict key names and shapes against the published sources (pytorch-fid,
torchvision, torch-fidelity), the parameter count against torchvision's documented
number, the two TensorFlow pooling patches, that a saved random-init network loads
through the public loader and gives the same features, the TorchScript (clean-fid)
calling convention, clear errors for bad files, and FID through ``evaluate``.

Speed: Inception at 299x299 costs ~0.3 s per image on one core, so the end-to-end
tests shrink the resize target to 75x75 (the smallest input the network accepts; pool3
is 2048-d at any size) with ``monkeypatch``; the feature test runs at the real 299.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.cli import main
from ganforge.errors import CheckpointError
from ganforge.eval import evaluate
from ganforge.eval import inception as I
from ganforge.files import sha256_file

# Keys and shapes read off the sources: torchvision/models/inception.py (Inception3 with
# pytorch-fid's FIDInceptionA/C/E_1/E_2 blocks, num_classes=1008, aux_logits=False) and
# torch-fidelity's utils/util_convert_inception_weights.py (the TF -> PyTorch name map).
EXPECTED_SHAPES = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_1a_3x3.bn.running_var": (32,),
    "Conv2d_2b_3x3.conv.weight": (64, 32, 3, 3),
    "Conv2d_3b_1x1.conv.weight": (80, 64, 1, 1),
    "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
    "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch_pool.conv.weight": (64, 288, 1, 1),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
    "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
    "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
    "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
    "Mixed_7b.branch3x3dbl_1.conv.weight": (448, 1280, 1, 1),
    "Mixed_7b.branch3x3_2b.conv.weight": (384, 384, 3, 1),
    "Mixed_7c.branch1x1.conv.weight": (320, 2048, 1, 1),
    "Mixed_7c.branch3x3dbl_3b.bn.bias": (384,),
    "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}
# torch-fidelity's map lists 94 conv/batchnorm pairs plus softmax weights and biases:
# each pair is conv.weight + bn.{weight,bias,running_mean,running_var}.
NUM_CONV_LAYERS = 94
# torchvision documents Inception_V3_Weights.IMAGENET1K_V1 num_params = 27,161,264
# (1000 classes, with AuxLogits). Remove AuxLogits (conv0 768->128 1x1 + BN, conv1
# 128->768 5x5 + BN, fc 768->1000) and widen fc to the 2015 graph's 1008 outputs.
TORCHVISION_PARAMS = 27_161_264
AUX_PARAMS = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
FID_INCEPTION_PARAMS = TORCHVISION_PARAMS - AUX_PARAMS + 8 * 2048 + 8


def _calibrated_model(seed: int = 0) -> I.FIDInceptionV3:
    """Random weights, with BatchNorm statistics taken from one random batch so that the
    pool3 features are O(1) (default init shrinks them to ~1e-8, too small for FID)."""
    torch.manual_seed(seed)
    model = I.FIDInceptionV3()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(torch.rand(8, 3, 75, 75) * 2 - 1)
    return model.eval()


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """(path, model): a random-init FID Inception saved as pytorch-fid's file would be."""
    model = _calibrated_model()
    path = tmp_path_factory.mktemp("inception") / I.PYTORCH_FID_FILE
    torch.save(model.state_dict(), path)
    return path, model


def _images(n: int, size: int, seed: int, channels: int = 3) -> np.ndarray:
    """Smooth random uint8 images: 8x8 random colour blocks upsampled to ``size``."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (n, 8, 8, channels), dtype=np.uint8)
    big = np.kron(small, np.ones((1, size // 8, size // 8, 1), np.uint8))
    return big[..., 0] if channels == 1 else big


# ----------------------------------------------------------------------------- architecture
def test_state_dict_keys_and_shapes_match_pytorch_fid():
    sd = I.FIDInceptionV3().state_dict()
    for key, shape in EXPECTED_SHAPES.items():
        assert tuple(sd[key].shape) == shape, key
    keys = [k for k in sd if not k.endswith("num_batches_tracked")]
    assert len(keys) == 5 * NUM_CONV_LAYERS + 2
    assert not any(k.startswith("AuxLogits") for k in sd)
    # every conv is bias-free and every BatchNorm uses TF's eps
    model = I.FIDInceptionV3()
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == len(bns) == NUM_CONV_LAYERS
    assert all(c.bias is None for c in convs) and all(b.eps == 0.001 for b in bns)


def test_parameter_count_is_torchvisions_minus_aux_with_1008_classes():
    n = sum(p.numel() for p in I.FIDInceptionV3().parameters())
    assert FID_INCEPTION_PARAMS == 23_850_960
    assert n == FID_INCEPTION_PARAMS


def test_tensorflow_pooling_patches():
    x = torch.ones(1, 1, 4, 4)
    # TF leaves the zero padding out of the mean: a constant stays constant at the border
    # (torchvision's default would give 4/9 in the corners).
    assert torch.allclose(I._tf_avg_pool(x), x)
    y = torch.randn(1, 2048, 8, 8)
    e1, e2 = I.FIDInceptionE_1(2048), I.FIDInceptionE_2(2048)
    assert torch.allclose(e1.pool(y), torch.nn.functional.avg_pool2d(y, 3, 1, 1, count_include_pad=False))
    assert torch.allclose(e2.pool(y), torch.nn.functional.max_pool2d(y, 3, 1, 1))  # Mixed_7c max-pools


# ----------------------------------------------------------------------------- loading + features
def test_loaded_weights_give_2048_features_for_rgb_and_gray(weights):
    path, model = weights
    ext = I.load_inception(path)
    assert ext.sha256 == sha256_file(path) and ext.kind == "state_dict" and ext.has_logits
    assert ext.feature_space == "inception-v3-pool3 (pytorch-fid)"
    assert I.load_inception(path) is ext  # hashed and loaded once

    rgb = _images(2, 64, seed=1)
    f, logits = I.inception_features(rgb, ext, batch_size=1)
    assert f.shape == (2, 2048) and logits.shape == (2, 1008) and np.isfinite(f).all()
    with torch.no_grad():  # the weights really went in: same output as the saved model
        x = torch.nn.functional.interpolate(torch.from_numpy(rgb).permute(0, 3, 1, 2).float() / 255,
                                            size=(299, 299), mode="bilinear", align_corners=False)
        ref = model(2 * x - 1).numpy()
    np.testing.assert_allclose(f, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())

    gray = _images(2, 28, seed=2, channels=1)
    g, _ = I.inception_features(gray, ext)
    g3, _ = I.inception_features(np.repeat(gray[..., None], 3, axis=-1), ext)
    assert g.shape == (2, 2048)
    np.testing.assert_array_equal(g, g3)  # grayscale is the image repeated on 3 channels
    assert not np.allclose(g[0], g[1])


def test_other_key_layouts_load(weights, tmp_path):
    """torch-fidelity's file has no num_batches_tracked; torchmetrics/DataParallel add a
    prefix; pytorch-fid's InceptionV3 wrapper names layers blocks.i.j and has no fc."""
    path, model = weights
    sd = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    p1 = tmp_path / "fidelity.pth"
    torch.save({"inception." + k: v for k, v in sd.items()}, p1)
    e1 = I.load_inception(p1)
    assert e1.has_logits
    for k in ("Mixed_7c.branch_pool.conv.weight", "fc.weight"):
        assert torch.equal(e1.model.state_dict()[k], sd[k])

    inverse = {v: k for k, v in I._pytorch_fid_wrapper_names().items()}
    wrapped = {}
    for k, v in sd.items():
        if k.startswith("fc."):
            continue
        layer = k.split(".")[0] + "."
        wrapped[inverse[layer] + k[len(layer):]] = v
    assert "blocks.3.2.branch_pool.conv.weight" in wrapped
    p2 = tmp_path / "wrapper.pth"
    torch.save(wrapped, p2)
    e2 = I.load_inception(p2)
    assert not e2.has_logits
    assert torch.equal(e2.model.state_dict()["Mixed_7c.branch_pool.conv.weight"], sd["Mixed_7c.branch_pool.conv.weight"])


class _Opaque:  # a pickled Python object: weights_only loading must refuse it
    pass


def test_bad_files_raise_clear_errors(weights, tmp_path):
    path, model = weights
    text = tmp_path / "notes.pth"
    text.write_text("these are not weights\n")
    wrong_key = tmp_path / "wrong_key.pth"
    torch.save({"conv.weight": torch.zeros(3)}, wrong_key)
    tensor = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), tensor)
    opaque = tmp_path / "opaque.pth"
    torch.save({"x": _Opaque()}, opaque)
    cases = {
        tmp_path / "missing.pth": "does not exist",
        tmp_path: "is a folder",
        text: "not a PyTorch weights file",
        wrong_key: "not of the FID InceptionV3",
        tensor: "not a state dict",
        opaque: "not a PyTorch weights file",
    }
    for bad, phrase in cases.items():
        with pytest.raises(CheckpointError, match=phrase) as info:
            I.load_inception(bad)
        msg = str(info.value)
        assert I.PYTORCH_FID_FILE in msg and I.PYTORCH_FID_URL in msg and I.CLEAN_FID_FILE in msg, bad
        assert "\n" not in msg

    # torchvision's ImageNet Inception (1000 classes) has the right names but not the shapes
    sd = dict(model.state_dict())
    sd["fc.weight"], sd["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)
    wrong_shape = tmp_path / "tv.pth"
    torch.save(sd, wrong_shape)
    with pytest.raises(CheckpointError, match=r"fc.weight has shape \(1000, 2048\)"):
        I.load_inception(wrong_shape)


# ----------------------------------------------------------------------------- TorchScript (clean-fid)
class _CleanFidStandIn(torch.nn.Module):
    """Has clean-fid's calling convention: ``model(x, return_features=True)`` on
    (N,3,299,299) in [0,255]. Its "features" are the channel means, zero-padded."""

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        assert x.shape[2] == 299 and x.shape[3] == 299
        means = x.mean(dim=(2, 3))
        return torch.cat([means, torch.zeros(x.shape[0], 2045)], dim=1)


class _WrongOutput(torch.nn.Module):
    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        return x.mean(dim=(2, 3))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.script/save are deprecated in new torch
def test_torchscript_file_is_called_like_clean_fid(tmp_path):
    path = tmp_path / I.CLEAN_FID_FILE
    torch.jit.script(_CleanFidStandIn()).save(str(path))
    ext = I.load_inception(path)
    assert ext.kind == "torchscript" and not ext.has_logits
    assert ext.feature_space == "inception-v3-pool3 (clean-fid)"
    img = np.empty((2, 32, 32, 3), np.uint8)
    img[0], img[1] = (10, 100, 200), (255, 0, 30)
    f, logits = I.inception_features(img, ext)
    assert logits is None and f.shape == (2, 2048)
    # values reach the model in [0,255], channel order kept (bicubic keeps a constant)
    np.testing.assert_allclose(f[:, :3], [[10, 100, 200], [255, 0, 30]], atol=1e-3)

    bad = tmp_path / "wrong.pt"
    torch.jit.script(_WrongOutput()).save(str(bad))
    with pytest.raises(CheckpointError, match="instead of"):
        I.inception_features(img, I.load_inception(bad))


# ----------------------------------------------------------------------------- Inception Score
def test_inception_score_bounds():
    confident = np.zeros((100, 1008))
    confident[np.arange(100), np.arange(100) % 10] = 60.0  # sure, balanced over 10 classes
    assert I.inception_score(confident, splits=1) == pytest.approx((10.0, 0.0), rel=1e-6)
    assert I.inception_score(np.zeros((100, 1008)))[0] == pytest.approx(1.0)
    # agrees with the MNIST classifier score (another implementation) on random logits
    from ganforge.eval.metrics import classifier_score

    logits = np.random.default_rng(0).normal(0, 3, (50, 1008))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert I.inception_score(logits, splits=1)[0] == pytest.approx(classifier_score(p)[0], rel=1e-6)


# ----------------------------------------------------------------------------- evaluate
def test_evaluate_in_inception_space(weights, tmp_path, monkeypatch, capsys):
    """FID of a set against itself ~ 0, against brightened images > 0; protocol, table,
    floor, reference-feature cache and the CLI flag on RGB folders."""
    from PIL import Image

    from ganforge.data.cache import ganforge_home

    monkeypatch.setattr(I, "INPUT_SIZE", 75)
    path, _ = weights
    real = _images(20, 32, seed=3)
    for name, imgs in (("real", real), ("same", real)):
        (tmp_path / name).mkdir()
        for i, im in enumerate(imgs):
            Image.fromarray(im).save(tmp_path / name / f"{i:02d}.png")
    out = tmp_path / "e.json"
    rc = main(["evaluate", str(tmp_path / "same"), "--ref", str(tmp_path / "real"), "--image-size", "32",
               "-n", "20", "--bootstrap", "0", "--no-floor", "--no-pixel-c2st", "--no-memorisation",
               "--inception-weights", str(path), "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "feature space: inception-v3-pool3 (pytorch-fid)" in text and "FID (Inception pool3)" in text
    rep = json.loads(out.read_text())
    assert rep["protocol"]["feature_space"] == "inception-v3-pool3 (pytorch-fid)"
    assert rep["protocol"]["extractor_sha256"] == sha256_file(path)
    m = rep["metrics"]
    for key in ("fid", "kid", "inception_score", "precision", "recall", "density", "coverage", "one_nn",
                "c2st_features"):
        assert key in m, key
    assert "classifier_score" not in m and "classes_present" not in m
    self_fid = m["fid"]["value"]
    assert list((ganforge_home() / "eval").glob("features-*.npz"))  # reference features cached

    shifted = np.clip(real.astype(int) + 60, 0, 255).astype(np.uint8)
    np.savez(tmp_path / "real.npz", images=real)
    r = evaluate(shifted, ref=str(tmp_path / "real.npz"), n=20, bootstrap=0, pixel_c2st=False,
                 memorisation=False, inception_weights=path)
    assert r.protocol.feature_space == "inception-v3-pool3 (pytorch-fid)"
    assert r["fid"].value > 1.0 and self_fid < 1e-6 * r["fid"].value
    assert r["fid"].floor is not None and r["inception_score"].floor is not None


def test_rgb_without_weights_says_which_flag_and_file(tmp_path, monkeypatch):
    from ganforge.eval.evaluate import INCEPTION_ENV, _choose_extractor

    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    imgs = _images(12, 16, seed=4)
    np.savez(tmp_path / "ref.npz", images=imgs)
    r = evaluate(imgs, ref=str(tmp_path / "ref.npz"), n=12, bootstrap=0, pixel_c2st=False, floor=False,
                 memorisation=False)
    assert "fid" not in r.metrics and r.protocol.feature_space is None
    (why,) = [v for k, v in r.skipped.items() if k.startswith("fid")]
    assert "--inception-weights" in why and I.PYTORCH_FID_FILE in why and I.PYTORCH_FID_URL in why

    # the environment variable is the fallback for non-MNIST shapes only
    skipped: dict = {}
    monkeypatch.setenv(INCEPTION_ENV, str(tmp_path / "nowhere.pth"))
    with pytest.raises(CheckpointError, match="does not exist"):
        _choose_extractor(imgs, None, None, skipped)
    mnist_like = np.zeros((3, 28, 28), np.uint8)
    assert not hasattr(_choose_extractor(mnist_like, None, None, skipped), "cache_key")  # MNIST CNN

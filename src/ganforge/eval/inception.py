"""Inception-v3 features for FID on any images, from weights the user brings.

FID, KID and the rest were defined (Heusel et al. 2017) in the 2048-d "pool3" space of
one particular network: the InceptionV3 graph TensorFlow published on 2015-12-05. Every
FID people compare against (TTUR, pytorch-fid, torch-fidelity/torchmetrics, clean-fid)
uses *those* weights. They cannot be downloaded here and may not be bundled, so this
module holds the network *definition* in plain ``torch.nn`` and loads the weights from
a local file the user fetched on a connected machine. Two files are accepted:

* a **state dict**: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` or
  torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth`` (the weights torchmetrics
  uses). The module and parameter names below are those of torchvision's ``Inception3``
  patched with pytorch-fid's ``FIDInceptionA/C/E_1/E_2`` blocks, so the file loads with
  ``load_state_dict`` as it is. torch-fidelity names its layers the same way (its extra
  modules ``MaxPool_1``/``AvgPool`` hold no parameters), so no renaming is needed. Read
  with ``torch.load(..., weights_only=True)``: tensors only, never arbitrary pickles.
  Preprocessing follows pytorch-fid: [0,1] -> bilinear resize to 299x299
  (``align_corners=False``, no antialiasing) -> ``2x - 1``.
* a **TorchScript** archive: clean-fid's (and stylegan2-ada's) ``inception-2015-12-05.pt``,
  read with ``torch.jit.load`` and called as clean-fid's default "clean" mode calls it:
  each channel resized to 299x299 with PIL bicubic on float32 values (no quantisation
  back to uint8), values kept in [0,255], then ``model(x, return_features=True)``.

Both give the same network; the two preprocessing recipes differ slightly (bilinear
vs bicubic resize), which is exactly the pytorch-fid vs clean-fid difference, so the
report names the feature space it used ("inception-v3-pool3 (pytorch-fid)" or
"(clean-fid)") and numbers are only compared within one of them.

The Inception Score follows torch-fidelity: softmax over all 1008 outputs of the
*bias-free* logits ``pool3 @ fc.weight.T`` (the original TF code of Salimans et al.
multiplied by the softmax weights only), 10 splits after a fixed shuffle (seed 2020),
mean and standard deviation over the splits.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import CheckpointError, DataError

FEATURE_DIM = 2048
NUM_LOGITS = 1008          # the 2015 graph has 1008 outputs: 1000 ImageNet classes + 8 unused
INPUT_SIZE = 299

PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
PYTORCH_FID_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
)
TORCH_FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"
TORCH_FIDELITY_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
CLEAN_FID_FILE = "inception-2015-12-05.pt"
CLEAN_FID_URL = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt"

#: One sentence for every error and for the "not computed" reason: what to fetch, from where.
WHERE_TO_GET = (
    f"download {PYTORCH_FID_FILE} from {PYTORCH_FID_URL} (or torch-fidelity's {TORCH_FIDELITY_FILE} "
    f"from {TORCH_FIDELITY_URL}, same hash prefix) or clean-fid's {CLEAN_FID_FILE} from {CLEAN_FID_URL} "
    "on a connected machine and pass its path with --inception-weights"
)

#: Bump when the preprocessing changes: cached Inception features are keyed by it.
PREPROCESS_VERSION = 1
FEATURE_SPACE_PYTORCH_FID = "inception-v3-pool3 (pytorch-fid)"
FEATURE_SPACE_CLEAN_FID = "inception-v3-pool3 (clean-fid)"


# ============================================================================ network
class BasicConv2d(nn.Module):
    """conv (no bias) -> BatchNorm (eps 0.001, as in the TF graph) -> ReLU."""

    def __init__(self, cin: int, cout: int, **conv_kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **conv_kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's 3x3 average pool leaves the zero padding out of the mean; torchvision's
    # default counts it. This is one of the two patches that make pytorch-fid's network
    # reproduce the TF numbers (the other is the max pool in Mixed_7c, below).
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    """35x35 block: 1x1 | 1x1->5x5 | 1x1->3x3->3x3 | avgpool->1x1 (Mixed_5b..5d)."""

    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_tf_avg_pool(x))], 1)


class InceptionB(nn.Module):
    """Grid reduction 35 -> 17 (Mixed_6a); identical in torchvision and the TF graph."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionC(nn.Module):
    """17x17 block with factorised 7x7 convolutions (1x7 then 7x1) (Mixed_6b..6e)."""

    def __init__(self, cin: int, channels_7x7: int):
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                      self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = layer(bd)
        return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(_tf_avg_pool(x))], 1)


class InceptionD(nn.Module):
    """Grid reduction 17 -> 8 (Mixed_7a); identical in torchvision and the TF graph."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class _InceptionE(nn.Module):
    """8x8 block whose 3x3 branches split into parallel 1x3 and 3x1 convolutions."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(self.pool(x))], 1)


class FIDInceptionE_1(_InceptionE):  # noqa: N801 (pytorch-fid's name)
    """Mixed_7b: average pool without the padding, as in TF."""

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        return _tf_avg_pool(x)


class FIDInceptionE_2(_InceptionE):  # noqa: N801 (pytorch-fid's name)
    """Mixed_7c: the 2015 graph max-pools here (pytorch-fid: "likely an error" in that
    graph, but it is what every published FID was computed with)."""

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class FIDInceptionV3(nn.Module):
    """The FID InceptionV3 ("pt_inception-2015-12-05"): (N,3,299,299) in [-1,1] ->
    pool3 features (N,2048); :meth:`unbiased_logits` maps them to the 1008 class logits
    without the bias (for the Inception Score). No auxiliary classifier, no dropout
    (inference only). 23,850,960 parameters."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE_1(1280)
        self.Mixed_7c = FIDInceptionE_2(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(FEATURE_DIM, NUM_LOGITS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"):
            x = getattr(self, name)(x)
        return torch.flatten(x, 1)

    def unbiased_logits(self, features: torch.Tensor) -> torch.Tensor:
        return features @ self.fc.weight.T


# ============================================================================ loading
@dataclass(frozen=True)
class InceptionExtractor:
    """Loaded Inception weights. ``sha256`` (of the file) goes into the report's protocol;
    ``cache_key`` also names the preprocessing, so cached features never mix recipes."""

    model: nn.Module
    sha256: str
    path: str
    kind: str                 # "state_dict" (pytorch-fid recipe) or "torchscript" (clean-fid recipe)
    has_logits: bool          # the Inception Score needs ``fc``; TorchScript and fc-less files lack it

    @property
    def feature_space(self) -> str:
        return FEATURE_SPACE_PYTORCH_FID if self.kind == "state_dict" else FEATURE_SPACE_CLEAN_FID

    @property
    def cache_key(self) -> str:
        return f"{self.sha256}:{self.kind}:v{PREPROCESS_VERSION}"


_HASHES: dict[tuple, str] = {}
_MODELS: dict[str, InceptionExtractor] = {}


def _file_sha256(path: Path) -> str:
    """sha256 of the file, hashed once per (path, mtime, size): ~100 MB is not re-read."""
    from ganforge.files import sha256_file

    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _HASHES:
        _HASHES[key] = sha256_file(path)
    return _HASHES[key]


def _is_torchscript(path: Path) -> bool:
    # A TorchScript archive is a zip with code and a constants.pkl; a torch.save zip has
    # neither. Looking is cheap and avoids feeding one format to the other's reader.
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n == "constants.pkl" or n.endswith("/constants.pkl") for n in z.namelist())


def _pytorch_fid_wrapper_names() -> dict[str, str]:
    """pytorch-fid's ``InceptionV3`` wrapper stores the same layers as ``blocks.i.j``."""
    blocks = [
        ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"],
        ["Conv2d_3b_1x1", "Conv2d_4a_3x3"],
        ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"],
        ["Mixed_7a", "Mixed_7b", "Mixed_7c"],
    ]
    return {f"blocks.{i}.{j}.": f"{name}." for i, names in enumerate(blocks) for j, name in enumerate(names)}


def map_state_dict_keys(state: dict) -> dict:
    """Rename the keys of a saved state dict to this module's names.

    Accepted as they are: pytorch-fid's ``FID_WEIGHTS_URL`` file, torch-fidelity's (and
    so torchmetrics') file; both use torchvision's names. Also accepted, by renaming:
    a ``module.``/``inception.``/``model.`` prefix (DataParallel, torchmetrics'
    ``FrechetInceptionDistance.state_dict()``), and pytorch-fid's ``InceptionV3``
    wrapper (``blocks.0.0.conv.weight`` -> ``Conv2d_1a_3x3.conv.weight``; it has no
    ``fc``, so the Inception Score is then unavailable). BatchNorm's
    ``num_batches_tracked`` counters are dropped (unused at inference; torch-fidelity's
    file has none).
    """
    wrapper = _pytorch_fid_wrapper_names()
    out = {}
    for key, value in state.items():
        k = key
        changed = True
        while changed:  # strip any nesting of the known prefixes
            changed = False
            for prefix in ("module.", "inception.", "model."):
                if k.startswith(prefix):
                    k, changed = k[len(prefix):], True
        for old, new in wrapper.items():
            if k.startswith(old):
                k = new + k[len(old):]
                break
        if not k.endswith("num_batches_tracked"):
            out[k] = value
    return out


def _check_state_dict(path: Path, state: dict, model: FIDInceptionV3) -> None:
    """One clear sentence when the keys or shapes are not those of the FID Inception."""
    expected = {k: v.shape for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    fc = {"fc.weight", "fc.bias"}  # optional as a pair (no fc: features without the Inception Score)
    missing = sorted(set(expected) - set(state) - fc)
    if fc & set(state) and not fc <= set(state):  # half an fc layer is a broken file
        missing += sorted(fc - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        detail = []
        if missing:
            detail.append(f"{len(missing)} missing, e.g. {', '.join(missing[:3])}")
        if unexpected:
            detail.append(f"{len(unexpected)} unexpected, e.g. {', '.join(unexpected[:3])}")
        raise CheckpointError(
            f"{path} is a state dict but not of the FID InceptionV3 (keys: {'; '.join(detail)}); {WHERE_TO_GET}."
        )
    for k, v in state.items():
        if not isinstance(v, torch.Tensor):
            raise CheckpointError(f"{path}: entry {k} is a {type(v).__name__}, not a tensor; {WHERE_TO_GET}.")
        if tuple(v.shape) != tuple(expected[k]):
            raise CheckpointError(
                f"{path}: {k} has shape {tuple(v.shape)} but the FID InceptionV3 needs {tuple(expected[k])}; "
                f"this is another network's file, {WHERE_TO_GET}."
            )


def _load_state_dict_file(path: Path) -> tuple[FIDInceptionV3, bool]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError...: all "not a weights file"
        raise CheckpointError(
            f"{path} is not a PyTorch weights file readable without unpickling code "
            f"({type(exc).__name__}); {WHERE_TO_GET}."
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # a checkpoint that wraps its weights
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a state dict of tensors; {WHERE_TO_GET}.")
    model = FIDInceptionV3()
    state = map_state_dict_keys(state)
    _check_state_dict(path, state, model)
    model.load_state_dict(state, strict=False)  # strictness checked above, fc may be absent
    return model, "fc.weight" in state


def _load_torchscript_file(path: Path) -> nn.Module:
    import warnings

    try:
        with warnings.catch_warnings():
            # Recent torch versions mark TorchScript deprecated; clean-fid's file exists only in
            # this format, and the user can do nothing about the warning.
            warnings.simplefilter("ignore", DeprecationWarning)
            model = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise CheckpointError(f"{path} looks like TorchScript but cannot be loaded ({exc}); {WHERE_TO_GET}.") from None
    return model.eval()


def load_inception(path: str | os.PathLike) -> InceptionExtractor:
    """Load FID Inception weights from a local file (see the module docstring for which).

    Raises :class:`CheckpointError` with one sentence naming the files to download when
    the path is missing, is not a weights file, or holds another network. The loaded
    model is cached by file hash, so repeated evaluations load it once.
    """
    if path is None or str(path) == "":
        raise CheckpointError(f"no Inception weights given; {WHERE_TO_GET}.")
    p = Path(path).expanduser()
    if not p.is_file():
        what = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise CheckpointError(f"the Inception weights {p} {what}; {WHERE_TO_GET}.")
    digest = _file_sha256(p)
    if digest in _MODELS:
        return _MODELS[digest]
    if _is_torchscript(p):
        model, kind, has_logits = _load_torchscript_file(p), "torchscript", False
    else:
        (model, has_logits), kind = _load_state_dict_file(p), "state_dict"
    for q in model.parameters():
        q.requires_grad_(False)
    ext = InceptionExtractor(model=model.eval(), sha256=digest, path=str(p), kind=kind, has_logits=has_logits)
    _MODELS[digest] = ext
    return ext


# ============================================================================ features
def _as_rgb_uint8(images: np.ndarray) -> np.ndarray:
    """uint8 (N,H,W), (N,H,W,1) or (N,H,W,3) -> uint8 (N,H,W,3); gray is repeated, as
    PIL's ``convert("RGB")`` does in pytorch-fid and clean-fid."""
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise DataError(f"images must be uint8 in [0,255], got dtype {arr.dtype}; convert with np.uint8 before evaluating")
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise DataError(f"Inception features need images shaped (N,H,W) or (N,H,W,3), got {arr.shape}")
    return arr


def preprocess_pytorch_fid(images_rgb: np.ndarray) -> torch.Tensor:
    """uint8 (B,H,W,3) -> float32 (B,3,299,299) in [-1,1], as pytorch-fid: ToTensor's
    [0,1], bilinear resize (``align_corners=False``, no antialias), then ``2x - 1``."""
    x = torch.from_numpy(np.ascontiguousarray(images_rgb)).permute(0, 3, 1, 2).float().div_(255.0)
    x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return 2.0 * x - 1.0


def preprocess_clean_fid(images_rgb: np.ndarray) -> torch.Tensor:
    """uint8 (B,H,W,3) -> float32 (B,3,299,299) in [0,255], as clean-fid's "clean" mode:
    every channel resized on its float32 values with PIL bicubic (no rounding to uint8)."""
    from PIL import Image

    out = np.empty((len(images_rgb), 3, INPUT_SIZE, INPUT_SIZE), np.float32)
    for i, img in enumerate(images_rgb):
        for c in range(3):
            ch = Image.fromarray(img[:, :, c].astype(np.float32))  # mode "F"
            out[i, c] = np.asarray(ch.resize((INPUT_SIZE, INPUT_SIZE), resample=Image.Resampling.BICUBIC))
    return torch.from_numpy(out)


@torch.no_grad()
def inception_features(
    images: np.ndarray, ext: InceptionExtractor, batch_size: int = 50, progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """pool3 features (N,2048) float32 and the bias-free logits (N,1008) float32 (``None``
    when the weights carry no ``fc``, e.g. TorchScript) of uint8 images of any size.

    Batched under ``no_grad``; a progress bar shows for 100 images or more (Inception on
    a CPU takes tens of milliseconds per image)."""
    from tqdm import tqdm

    rgb = _as_rgb_uint8(images)
    n = len(rgb)
    feats = np.empty((n, FEATURE_DIM), np.float32)
    logits = np.empty((n, NUM_LOGITS), np.float32) if ext.has_logits else None
    show = n >= 100 if progress is None else progress
    with tqdm(total=n, desc="inception features", unit="img", disable=not show) as bar:
        for i in range(0, n, batch_size):
            batch = rgb[i : i + batch_size]
            f = _forward(ext, batch)
            feats[i : i + len(batch)] = f.numpy()
            if logits is not None:
                logits[i : i + len(batch)] = ext.model.unbiased_logits(f).numpy()
            bar.update(len(batch))
    return feats, logits


def _forward(ext: InceptionExtractor, batch_rgb: np.ndarray) -> torch.Tensor:
    if ext.kind == "torchscript":
        out = ext.model(preprocess_clean_fid(batch_rgb), return_features=True)
    else:
        out = ext.model(preprocess_pytorch_fid(batch_rgb))
    if not isinstance(out, torch.Tensor) or out.ndim < 2 or out.shape[0] != len(batch_rgb) \
            or out[0].numel() != FEATURE_DIM:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise CheckpointError(
            f"{ext.path} returned {shape} instead of ({len(batch_rgb)}, {FEATURE_DIM}) pool3 features; "
            f"it is not the FID Inception, {WHERE_TO_GET}."
        )
    return out.reshape(len(batch_rgb), FEATURE_DIM).float()


# ============================================================================ Inception Score
def inception_score(logits: np.ndarray, splits: int = 10, seed: int = 2020) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016) as torch-fidelity computes it.

    ``logits``: (N,1008) bias-free logits. Rows are shuffled with
    ``np.random.RandomState(seed)``, cut into ``splits`` parts at ``i*N//splits``; each
    part scores exp(mean KL(p(y|x) || p(y))) with p(y) the part's mean softmax. Returns
    (mean, sd) over parts (population sd, as torch-fidelity). 1 = no information,
    1008 = confident predictions spread evenly over every class.
    """
    x = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    if x.ndim != 2 or len(x) < splits:
        raise DataError(f"the Inception Score needs at least {splits} rows of logits, got shape {tuple(x.shape)}")
    n = len(x)
    x = x[np.random.RandomState(seed).permutation(n)]
    p, log_p = x.softmax(1), x.log_softmax(1)
    scores = []
    for i in range(splits):
        part, log_part = p[i * n // splits : (i + 1) * n // splits], log_p[i * n // splits : (i + 1) * n // splits]
        q = part.mean(0, keepdim=True)
        scores.append(float((part * (log_part - q.log())).sum(1).mean().exp()))
    return float(np.mean(scores)), float(np.std(scores))

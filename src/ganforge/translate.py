"""Use a trained image-to-image model (``kind=srgan`` or ``kind=pix2pix``) on images.

:class:`Translator` is the :class:`~ganforge.sampler.Sampler` these tasks hand out: it
maps an input image to an output image (``translate``), and its ``sample(n)`` translates
the first ``n`` inputs of the run's *test* pairs, so ``ganforge sample``/``evaluate`` and
the training-time FID treat it like every other model. The generator always runs in eval
mode here (BatchNorm's running statistics, dropout off): pix2pix's G in train mode at test
time is a common bug of other implementations.

``ganforge translate RUN INPUT -o OUTPUT`` (:func:`translate_files`): INPUT a PNG, a folder
of images (with ``A/`` and ``B/`` sub-folders: inputs and targets) or an .npz (``inputs``
or ``images``, optional ``targets``); OUTPUT a PNG grid (rows input | output | target), a
folder of PNGs, or an .npz (``images`` = outputs, and ``inputs``, ``targets``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import ConfigError, DataError
from ganforge.sampler import Sampler, to_uint8_images

__all__ = ["Translator", "load_translator", "translate_files", "display_input"]


class Translator(Sampler):
    """x -> net(x) for inputs (N, *in_shape) in [-1,1]. Fields beyond a Sampler's:
    ``in_shape`` (C,h,w), ``scale`` (output side / input side), ``pairs`` (the ``data.pairs``
    it was trained with) and ``data`` (the training ``DataConfig`` as a dict, whose test
    split ``sample`` translates)."""

    def __init__(self, net: nn.Module, *, in_shape: tuple[int, ...], pairs: str, data: dict, **fields):
        super().__init__(**fields)
        self.net = net
        self.training = net.training
        self.in_shape: tuple[int, ...] = tuple(in_shape)
        self.scale: int = self.img_shape[-1] // self.in_shape[-1]
        self.pairs: str = pairs
        self.data: dict = dict(data)
        self._info = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, batch_size: int = 500, device=None) -> torch.Tensor:
        """Outputs (N, *img_shape) float32 on the CPU for inputs ``x`` (N, *in_shape) in [-1,1],
        with the network in eval mode (restored afterwards)."""
        if x.ndim != 4 or x.shape[1] != self.in_shape[0]:
            raise DataError(f"this model takes inputs with {self.in_shape[0]} channel(s) shaped (N,C,H,W), "
                            f"got {tuple(x.shape)}.")
        device = device or next(self.parameters()).device
        was = self.net.training
        self.net.eval()
        try:
            out = [self(x[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)]
        finally:
            self.net.train(was)
        return torch.cat(out)

    def test_pairs(self):
        """The :class:`~ganforge.data.paired.PairInfo` of the training data (its test split), loaded once."""
        if self._info is None:
            from ganforge.config import DataConfig
            from ganforge.data.paired import load_paired

            _, self._info = load_paired(DataConfig(**self.data))
        return self._info

    def sample(self, n: int, seed: int = 0, cond=None, batch_size: int = 500,
               device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The outputs for the first ``n`` test inputs (fixed by the data set, so ``seed`` has
        nothing to draw: G runs in eval mode) and the targets' labels, when the data have them."""
        if cond is not None:
            raise ConfigError("an image-to-image model is conditioned on its input image, not on a class; drop --class.")
        info = self.test_pairs()
        if n > len(info.test_targets):
            raise ConfigError(f"this model's test split has {len(info.test_targets)} pairs; ask for at most that many "
                              f"outputs (got {n}).")
        x, _, labels = info.test(n)
        return self.translate(x, batch_size, device), labels


def display_input(x: torch.Tensor, target_shape: tuple[int, ...]) -> torch.Tensor:
    """Inputs (N,C,h,w) shown at the target's size and channels: nearest-upsampled (so the
    pixels of a low-resolution input stay visible) and a grey input repeated to RGB."""
    c, h, w = target_shape
    if x.shape[-2:] != (h, w):
        x = F.interpolate(x, size=(h, w), mode="nearest")
    if x.shape[1] != c:
        x = x.expand(-1, c, -1, -1) if x.shape[1] == 1 else x.mean(1, keepdim=True)
    return x


def load_translator(path: str | Path, *, net: str = "G", device: str | torch.device = "cpu") -> Translator:
    """The :class:`Translator` of a run directory or checkpoint of an image-to-image task, in
    eval mode on ``device``. ``net="G_mse"``: an SRGAN run's generator as it was at the end of
    its MSE pretraining (the SRResNet baseline)."""
    from ganforge import checkpoint
    from ganforge.config import Config
    from ganforge.tasks import get_task

    ckpt = checkpoint.resolve(path)
    state = checkpoint.load_state(ckpt)
    cfg = Config.from_dict(state["config"])
    task = get_task(state.get("kind", cfg.kind))
    if not hasattr(task, "load_translator"):
        raise ConfigError(f"{path} holds a {cfg.kind} model, which generates images from noise; "
                          "`ganforge translate` needs a kind=srgan or kind=pix2pix run.")
    return task.load_translator(cfg, state, ckpt, net=net, device=device)


# ----------------------------------------------------------------------------- files
def _read_png(path: Path, channels: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            grey = im.mode in ("L", "1", "I;16", "I", "LA")
            if channels == 3 and grey:
                raise DataError(f"{path} is a grayscale image but this model takes RGB inputs; give it colour images.")
            return np.array(im.convert("L" if channels == 1 else "RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot decode image {path} ({exc}); pass a PNG/JPEG image.") from None


def _read_folder(folder: Path, channels: int) -> tuple[np.ndarray, list[str]]:
    from ganforge.data.arrays import image_files

    files = image_files(folder, recursive=False)
    if not files:
        raise DataError(f"{folder} contains no PNG/JPEG images; pass a folder of images.")
    arrays = [_read_png(p, channels) for p in files]
    for p, a in zip(files, arrays):
        if a.shape != arrays[0].shape:
            raise DataError(f"the images in {folder} differ in size ({files[0].name} is {arrays[0].shape[1]}x"
                            f"{arrays[0].shape[0]}, {p.name} is {a.shape[1]}x{a.shape[0]}); resize them to one size.")
    return np.stack(arrays), [p.stem for p in files]


def _nchw(images: np.ndarray, channels: int, where: str) -> torch.Tensor:
    from ganforge.data.arrays import check_images
    from ganforge.data.batches import images_to_nchw, to_model_range

    images = check_images(np.asarray(images), where)
    have = 1 if images.ndim == 3 else images.shape[-1]
    if have != channels:
        if channels == 3:
            raise DataError(f"{where} holds grayscale images but this model takes RGB inputs; give it colour images.")
        images = np.rint(images @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)  # luma, as PIL's convert("L")
    return to_model_range(images_to_nchw(images))


def read_inputs(path: str | Path, channels: int) -> tuple[torch.Tensor, torch.Tensor | None, list[str]]:
    """(inputs, targets or None, names) in [-1,1] from a PNG, a folder (``A/`` + ``B/`` for pairs) or an .npz."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist; pass a PNG, a folder of images or an .npz.")
    if path.is_dir():
        if (path / "A").is_dir() and (path / "B").is_dir():
            from ganforge.data.paired import load_folder_pairs

            a, b, names = load_folder_pairs(path)  # as found; inputs are then checked against the model
            return _nchw(a, channels, str(path / "A")), _nchw(b, 1 if b.ndim == 3 else 3, str(path / "B")), \
                [Path(n).stem for n in names]
        x, names = _read_folder(path, channels)
        return _nchw(x, channels, str(path)), None, names
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                key = "inputs" if "inputs" in z.files else "images" if "images" in z.files else None
                if key is None:
                    raise DataError(f"{path} has no array named 'inputs' or 'images' (it has {z.files}); "
                                    "save the input images under 'inputs'.")
                x = _nchw(z[key], channels, f"{path}[{key}]")
                t = None
                if "targets" in z.files:
                    tz = np.asarray(z["targets"])
                    t = _nchw(tz, 1 if tz.ndim == 3 else tz.shape[-1], f"{path}[targets]")
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f"cannot read {path} as a numpy array file ({type(exc).__name__}: {exc}).") from None
        if t is not None and len(t) != len(x):
            raise DataError(f"{path} has {len(x)} inputs but {len(t)} targets; save one target per input.")
        return x, t, [f"{i:05d}" for i in range(len(x))]
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"):
        return _nchw(_read_png(path, channels)[None], channels, str(path)), None, [path.stem]
    raise DataError(f"cannot read {path.name}: pass a PNG/JPEG image, a folder of images or an .npz.")


def translate_files(run: str | Path, inputs: str | Path, output: str | Path, *, batch_size: int = 500,
                    device: str = "cpu") -> dict:
    """Apply the run's generator to ``inputs`` and write ``output``; return what was written."""
    from ganforge.files import check_output_dir, check_output_file
    from ganforge.images import save_grid, save_png

    out = Path(output)
    if out.suffix in (".png", ".npz"):
        check_output_file(out, "-o")
    elif out.suffix:
        raise ConfigError(f"cannot write translations to {out.name}: use a .png (grid), an .npz, or a folder name.")
    else:
        check_output_dir(out, "-o")
    T = load_translator(run, device=device)
    x, targets, names = read_inputs(inputs, T.in_shape[0])
    if targets is not None:
        want = (x.shape[-2] * T.scale, x.shape[-1] * T.scale)
        if tuple(targets.shape[-2:]) != want:
            raise DataError(f"the targets are {targets.shape[-1]}x{targets.shape[-2]} but this model turns "
                            f"{x.shape[-1]}x{x.shape[-2]} inputs into {want[1]}x{want[0]}; give matching pairs.")
    try:
        y = T.translate(x, batch_size)
    except RuntimeError as exc:  # e.g. a U-Net meeting sides that its depth cannot halve
        raise DataError(f"the model cannot take inputs of {x.shape[-1]}x{x.shape[-2]} ({exc}).") from None
    shape = tuple(y.shape[1:])
    out_u8 = to_uint8_images(y)
    written = {"output": str(out), "n": len(y), "rows": "input | output" + (" | target" if targets is not None else "")}
    if out.suffix == ".png":
        cols = [display_input(x, shape), y] + ([display_input(targets, shape)] if targets is not None else [])
        grid = torch.stack(cols, 1).reshape(-1, *shape)  # one row per example: input | output | target
        save_grid(to_uint8_images(grid), out, nrow=len(cols))
    elif out.suffix == ".npz":
        from ganforge.data.cache import save_npz_atomic

        arrays = {"images": out_u8, "inputs": to_uint8_images(x)}
        if targets is not None:
            arrays["targets"] = to_uint8_images(targets)
        save_npz_atomic(out, **arrays)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for name, img in zip(names, out_u8):
            save_png(img, out / f"{name}.png")
    return written

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import load_images
from ganforge.data.arrays import load_array, load_folder
from ganforge.data.batches import DeviceBatcher, images_to_nchw, to_model_range, to_uint8
from ganforge.errors import DataError


def test_digits_are_uint8_with_labels():
    ds = load_images("digits")
    assert ds.images.shape == (1797, 8, 8) and ds.images.dtype == np.uint8
    assert ds.images.max() == 255 and ds.num_classes == 10 and ds.chw == (1, 8, 8)


def test_folder_grayscale_and_rgb_resized_and_cached(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((20, 30, 3), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")
    x = load_folder(tmp_path, size=16)
    assert x.shape == (3, 16, 16, 3) and x.dtype == np.uint8 and x[2].mean() == 80
    g = load_folder(tmp_path, size=8, channels=1)
    assert g.shape == (3, 8, 8)
    assert np.array_equal(load_folder(tmp_path, size=16), x)  # served from cache


@pytest.mark.parametrize("case", ["empty", "unreadable", "shape", "range", "missing"])
def test_bad_inputs_one_sentence(tmp_path, case):
    if case == "empty":
        arg = tmp_path
    elif case == "unreadable":
        (tmp_path / "bad.png").write_bytes(b"not a png")
        arg = tmp_path
    elif case == "shape":
        np.save(tmp_path / "x.npy", np.zeros((4, 5), np.uint8))
        arg = tmp_path / "x.npy"
    elif case == "range":
        np.savez(tmp_path / "x.npz", images=np.full((2, 4, 4), 3.5))
        arg = tmp_path / "x.npz"
    else:
        arg = tmp_path / "nope.npz"
    with pytest.raises(DataError) as info:
        load_images(str(arg))
    msg = str(info.value)
    assert msg.count("\n") == 0 and msg.endswith(".")


def test_npz_with_labels(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.zeros((5, 4, 4, 3), np.uint8), labels=np.arange(5))
    x, y = load_array(tmp_path / "d.npz")
    assert x.shape == (5, 4, 4, 3) and y.tolist() == [0, 1, 2, 3, 4]


def test_scaling_roundtrip_exact():
    u = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    for s in ("tanh", "sigmoid"):
        x = to_model_range(u, s)
        assert x.min() >= (-1 if s == "tanh" else 0) and x.max() <= 1
        assert torch.equal(to_uint8(x, s), u)


def test_batcher_seeded_epochs_and_resume():
    x = images_to_nchw(np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2))
    b1 = DeviceBatcher(x, torch.arange(10), batch_size=4, seed=3)
    seen = [b1.next()[1].tolist() for _ in range(2)]
    assert len(set(seen[0] + seen[1])) == 8  # no repeats within an epoch
    state = b1.state_dict()
    rest = [b1.next()[1].tolist() for _ in range(4)]
    b2 = DeviceBatcher(x, torch.arange(10), batch_size=4, seed=999)
    b2.load_state_dict(state)
    assert [b2.next()[1].tolist() for _ in range(4)] == rest
    b3 = DeviceBatcher(x, torch.arange(10), batch_size=4, seed=3)
    assert [b3.next()[1].tolist() for _ in range(2)] == seen

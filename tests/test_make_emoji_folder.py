"""scripts/make_emoji_folder.py on a tiny synthetic emoji-datasource tarball (no npm, no network)."""

import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_emoji_folder.py"


@pytest.fixture(scope="module")
def mef():
    spec = importlib.util.spec_from_file_location("make_emoji_folder", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _tarball(path: Path, set_name: str = "test") -> Path:
    # 1f600: left half opaque red, right half red at alpha 128, top row fully transparent black
    face = np.zeros((64, 64, 4), np.uint8)
    face[..., 0] = 255
    face[:, :32, 3] = 255
    face[:, 32:, 3] = 128
    face[0] = 0
    solid = np.zeros((64, 64, 4), np.uint8)
    solid[..., 2] = 200
    solid[..., 3] = 255
    skin, flag = face.copy(), solid.copy()
    skin[..., 1] = 90
    flag[..., 1] = 160
    emoji = [
        {"image": "1f600.png", "category": "Smileys & Emotion",
         "skin_variations": {"1F3FB": {"image": "1f600-1f3fb.png"}}},
        {"image": "1f1ea-1f1ec.png", "category": "Flags"},
        {"image": "1f3fb.png", "category": "Component"},
        {"image": "2b1b.png", "category": "Symbols"},
        {"image": "2b1c.png", "category": "Symbols"},  # same pixels as 2b1b: an exact duplicate
    ]
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "package/package.json", json.dumps({"name": "emoji-datasource-test", "version": "1.2.3"}).encode())
        _add(tar, "package/emoji.json", json.dumps(emoji).encode())
        for code, img in [("1f600", face), ("1f600-1f3fb", skin), ("1f1ea-1f1ec", flag), ("1f3fb", solid),
                          ("2b1b", solid), ("2b1c", solid)]:
            _add(tar, f"package/img/{set_name}/64/{code}.png", _png(img))
        _add(tar, f"package/img/{set_name}/32/1f600.png", _png(face[:32, :32]))  # other sizes are ignored
    return path


def test_rgba_composited_on_white_and_manifest(mef, tmp_path):
    tgz = _tarball(tmp_path / "emoji-datasource-test-1.2.3.tgz")
    out = tmp_path / "out"
    manifest = mef.build([str(tgz)], out, pack_dir=tmp_path)

    files = sorted(p.name for p in out.glob("*.png"))
    assert files == ["test_1f600.png", "test_2b1b.png"]
    with Image.open(out / "test_1f600.png") as im:
        assert im.mode == "RGB" and im.size == (64, 64)
        x = np.asarray(im).astype(int)
    assert (x[0] == 255).all()  # transparent black -> white, not black
    assert (x[1:, :32] == [255, 0, 0]).all()  # opaque red stays red
    # alpha 128: 255*(128/255) + 255*(1 - 128/255) = 255 for R, 255*(127/255) = 127 for G and B
    assert np.abs(x[1:, 32:] - [255, 127, 127]).max() <= 1

    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["count"] == 2
    (src,) = manifest["sources"]
    assert src["package"] == "emoji-datasource-test" and src["version"] == "1.2.3"
    assert src["sha256"] == hashlib.sha256(tgz.read_bytes()).hexdigest()
    assert src["count"] == 2 and src["sets"] == ["test"]
    assert src["dropped"] == {"flag": 1, "skin_tone": 1, "component": 1, "duplicate": 1, "not_in_emoji_json": 0,
                              "other_category": 0}


def test_keep_flags_and_skin_tones(mef, tmp_path):
    tgz = _tarball(tmp_path / "t.tgz")
    m = mef.build([str(tgz)], tmp_path / "out", pack_dir=tmp_path, keep_flags=True, keep_skin_tones=True)
    assert m["count"] == 4 and m["keep_flags"] and m["keep_skin_tones"]
    assert m["sources"][0]["dropped"] == {"flag": 0, "skin_tone": 0, "component": 1, "duplicate": 1,
                                          "not_in_emoji_json": 0, "other_category": 0}
    assert (tmp_path / "out" / "test_1f600-1f3fb.png").exists() and (tmp_path / "out" / "test_1f1ea-1f1ec.png").exists()


def test_category_filter_keeps_one_category_and_its_skin_tones(mef, tmp_path):
    tgz = _tarball(tmp_path / "t.tgz")
    m = mef.build([str(tgz)], tmp_path / "out", pack_dir=tmp_path, keep_skin_tones=True,
                  categories=("Smileys & Emotion",))
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["test_1f600-1f3fb.png", "test_1f600.png"]
    assert m["categories"] == ["Smileys & Emotion"]
    assert m["sources"][0]["dropped"]["other_category"] == 2  # 2b1b and 2b1c (category is checked before duplicates)


def test_refuses_non_empty_folder_and_unpinned_package(mef, tmp_path):
    tgz = _tarball(tmp_path / "t.tgz")
    mef.build([str(tgz)], tmp_path / "out", pack_dir=tmp_path)
    with pytest.raises(SystemExit, match="already holds PNG"):
        mef.build([str(tgz)], tmp_path / "out", pack_dir=tmp_path)
    with pytest.raises(SystemExit, match="pin the version"):
        mef.npm_pack("emoji-datasource-twitter", tmp_path)


def test_folder_loads_as_rgb_training_set(mef, tmp_path):
    from ganforge.data.arrays import load_folder

    mef.build([str(_tarball(tmp_path / "a.tgz", "aa")), str(_tarball(tmp_path / "b.tgz", "bb"))],
              tmp_path / "out", pack_dir=tmp_path)
    x = load_folder(tmp_path / "out", 64)
    # the second set's images are pixel-identical to the first's, so they are dropped as duplicates
    assert x.shape == (2, 64, 64, 3) and x.dtype == np.uint8

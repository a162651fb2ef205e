"""The TensorBoard sink: what it writes is read back with TensorBoard's own event reader;
without the package, one sentence naming the install command."""

import numpy as np
import pytest

from ganforge.errors import ConfigError


def test_config_has_the_switch():
    from ganforge.presets import preset_config

    cfg = preset_config("digits-mlp")
    assert cfg.train.tensorboard is False
    assert cfg.with_sets(["train.tensorboard=true"]).train.tensorboard is True


def test_missing_package_is_one_clear_sentence(monkeypatch, tmp_path):
    import ganforge.report.tensorboard as tb

    monkeypatch.setattr(tb.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r'pip install "ganforge\[tensorboard\]"') as err:
        tb.TensorBoardSink(tmp_path)
    assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")
    assert not (tmp_path / "tensorboard").exists()


def test_scalars_images_and_events_read_back(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed (pip install 'ganforge[tensorboard]')")
    from PIL import Image
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from ganforge.report.tensorboard import TensorBoardSink

    grid = np.arange(40 * 60, dtype=np.uint8).reshape(40, 60)
    Image.fromarray(np.stack([grid] * 3, -1)).save(tmp_path / "g.png")
    with TensorBoardSink(tmp_path) as sink:
        sink.scalars(5, {"step": 5, "d_loss": 1.25, "g_loss": 0.75, "img_per_s": 900.0, "time_s": 0.1})
        sink.scalars(10, {"step": 10, "d_loss": 1.5, "g_loss": float("nan"), "img_per_s": 950.0, "time_s": 0.2})
        sink.scalars(10, {"step": 10, "fid": 42.0, "eval_samples": 2000})
        sink.image("samples", 5, grid)
        sink.image_file("samples", 10, tmp_path / "g.png")
        sink.text(10, "warning", "D wins")
    acc = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"images": 0, "scalars": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"train/d_loss", "train/g_loss", "train/img_per_s", "train/time_s", "eval/fid"} <= set(tags["scalars"])
    assert "eval/eval_samples" not in tags["scalars"]
    d = acc.Scalars("train/d_loss")
    assert [e.step for e in d] == [5, 10] and [e.value for e in d] == [1.25, 1.5]
    assert np.isnan(acc.Scalars("train/g_loss")[1].value)
    assert acc.Scalars("eval/fid")[0].value == 42.0
    imgs = acc.Images("samples")
    assert [(e.step, e.width, e.height) for e in imgs] == [(5, 60, 40), (10, 60, 40)]
    decoded = np.asarray(Image.open(__import__("io").BytesIO(imgs[0].encoded_image_string)))
    assert decoded.shape[:2] == (40, 60) and int(decoded[..., 0].max()) == int(grid.max())
    assert "events/text_summary" in tags["tensors"]


def test_image_rejects_floats(tmp_path):
    pytest.importorskip("tensorboard")
    from ganforge.report.tensorboard import TensorBoardSink

    with TensorBoardSink(tmp_path) as sink, pytest.raises(ValueError, match="uint8"):
        sink.image("x", 0, np.zeros((4, 4), np.float32))


def test_a_training_run_writes_tensorboard_events(tmp_path):
    """train.tensorboard=true: the harness's metrics rows, grids and events as TensorBoard events."""
    pytest.importorskip("tensorboard")
    import inspect

    import ganforge.training.loop as loop

    if "TensorBoardSink" not in inspect.getsource(loop):
        pytest.skip("the training harness does not write TensorBoard events yet")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from report_helpers import train_tiny

    run = train_tiny(tmp_path, **{"train.tensorboard": True})
    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0, "scalars": 0, "tensors": 0})
    acc.Reload()
    assert [e.step for e in acc.Scalars("train/d_loss")] == [5, 10, 15, 20]
    assert {e.step for e in acc.Images("samples")} == {10, 20}
    assert "events/text_summary" in acc.Tags()["tensors"]


def test_missing_package_refused_before_the_run_directory(monkeypatch, tmp_path):
    import inspect

    import ganforge.report.tensorboard as tb
    import ganforge.training.loop as loop

    if "TensorBoardSink" not in inspect.getsource(loop):
        pytest.skip("the training harness does not write TensorBoard events yet")
    from report_helpers import train_tiny

    monkeypatch.setattr(tb.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="ganforge\\[tensorboard\\]"):
        train_tiny(tmp_path, **{"train.tensorboard": True})
    assert not any(tmp_path.iterdir())

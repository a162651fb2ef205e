"""The run report's page builder on tiny real runs: every section, every image decodes,
nothing external, the best value per row marked, old / killed / diverged runs render."""

import json
import shutil
from pathlib import Path

import pytest

from ganforge.report import build_report, load_run
from report_helpers import Page, decode_images, fake_eval

SECTIONS = ("summary", "events", "curves", "grids", "evaluation", "config", "files")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1"


def _self_contained(text: str, page: Page) -> None:
    low = text.lower()
    for needle in ("http://", "https://", "//cdn", "<link", "@import", "url("):
        assert needle not in low, needle
    assert all(u.startswith(("data:", "#")) for u in page.urls), [u[:30] for u in page.urls]
    assert all("src" not in s for s in page.scripts)  # inline script only
    for im in page.images:
        assert im.get("alt", "").strip(), "an image without alt text"
    for t in page.tables:
        assert t["head"] and all(c["tag"] == "th" for c in t["head"][0]), "a table without headers"


def test_single_run_has_every_section_and_only_inline_images(run_copy):
    run = run_copy(0)
    fake_eval(run, {"fid": (12.5, "lower", 1.1), "c2st_pixels": (0.61, "0.5", 0.5)}, shares=[0.1] * 10)
    out = build_report([run])
    assert out == run / "report.html"
    text = out.read_text()
    page = Page(text)
    for s in SECTIONS:
        assert s in page.ids, s
    _self_contained(text, page)
    images = decode_images(page)
    alts = [a["alt"] for a in page.images]
    grids = [a for a in alts if a.startswith("sample grid")]
    assert len(grids) == 2  # steps 10 and 20
    assert any("step 20" in a for a in grids)
    assert sum(a.startswith("Line chart") for a in alts) == 3  # losses, D outputs, img/s
    assert any(a.startswith("Bar chart") for a in alts) and any(a.startswith("closest pairs") for a in alts)
    assert all(im.size[0] > 10 and im.size[1] > 10 for im in images)
    # The curves' alt text says the numbers: the last logged d_loss is in it.
    last = load_run(run).rows[-1]
    assert f"{last['d_loss']:.3g}"[:4] in next(a for a in alts if "losses" in a)
    # The evaluation table: every metric with floor and CI; its protocol; the skipped metric.
    ev = page.table("eval")
    assert [c["text"] for c in ev["head"][0]][:4] == ["metric", "value", "95% CI", "real floor"]
    assert ev["rows"][0][0]["text"] == "FID" and ev["rows"][0][3]["text"] == "1.1"
    assert "not computed: tstr" in text and "reference_sha256" in text
    # The events of this run: a start and a finish, status finished.
    evs = [r[1]["text"] for r in page.table("events")["rows"]]
    assert evs[0] == "start" and evs[-1] == "finish"
    assert ">finished<" in text
    # The summary table has the run's numbers.
    assert page.row("metrics", "steps trained")[2]["text"] == "20"


def test_config_differences_from_the_preset_are_highlighted(run_copy):
    run = run_copy(1)
    page = Page(build_report([run]).read_text())
    cfg = page.table("config")
    diff = {r[0]["text"] for r in cfg["rows"] if "diff" in r[1]["class"]}
    # digits-mlp was overridden by the tiny test config and the D learning rate.
    assert {"task.d_optim.lr", "train.steps", "model.g_hidden"} <= diff
    assert "task.g_optim.lr" not in diff and "name" not in diff
    lr = next(r for r in cfg["rows"] if r[0]["text"] == "task.d_optim.lr")
    assert lr[1]["text"] == "0.001" and lr[2]["text"] == "0.0002"


def test_two_runs_one_comparison_table_best_value_marked(run_copy):
    a, b = run_copy(0, "a-run"), run_copy(1, "b-run")
    fake_eval(a, {"fid": (20.0, "lower", 1.0), "c2st_pixels": (0.45, "0.5", None),
                  "coverage": (0.8, "higher", 0.9), "copy_rate": (0.02, "floor", 0.01)})
    fake_eval(b, {"fid": (5.0, "lower", 1.0), "c2st_pixels": (0.60, "0.5", None),
                  "coverage": (0.7, "higher", 0.9), "copy_rate": (0.0, "floor", 0.01)})
    out = build_report([a, b], a.parent / "cmp.html")
    text = out.read_text()
    page = Page(text)
    for s in SECTIONS:
        assert s in page.ids, s
    _self_contained(text, page)
    decode_images(page)
    head = [c["text"] for c in page.table("metrics")["head"][0]]
    assert head == ["", "better", "a-run", "b-run"]

    def best(label):
        cells = page.row("metrics", label)[2:]
        return ["best" in c["class"].split() for c in cells]

    assert best("FID") == [False, True]          # lower
    assert best("C2ST_PIXELS") == [True, False]  # closer to 0.5
    assert best("COVERAGE") == [True, False]     # higher
    assert best("COPY_RATE") == [True, True]     # |0.02-0.01| = |0-0.01|: a tie marks both
    # A statistic of training has no direction: nothing marked.
    assert not any("best" in c["class"] for c in page.row("metrics", "d_loss (last window)"))
    # Grids side by side: two per run, and the config table compares the runs.
    assert sum(a["alt"].startswith("sample grid of run a-run") for a in page.images) == 2
    assert sum(a["alt"].startswith("sample grid of run b-run") for a in page.images) == 2
    lr = page.row("config", "task.d_optim.lr")
    assert "diff" not in lr[1]["class"] and "diff" in lr[2]["class"]
    # Curves: one panel per statistic with a line per run.
    assert any(a["alt"].startswith("Line chart, d_loss against training step for 2 runs") for a in page.images)


def test_protocol_mismatch_is_said(run_copy):
    a, b = run_copy(0, "a-run"), run_copy(1, "b-run")
    fake_eval(a, {"fid": (20.0, "lower", 1.0)}, num_samples=2000)
    fake_eval(b, {"fid": (5.0, "lower", 1.0)}, num_samples=10000)
    text = build_report([a, b], a.parent / "cmp.html").read_text()
    assert "differ in sample count" in text


def test_release_01_run_without_events_samples_or_eval_renders(tmp_path):
    run = tmp_path / "001-gan-ema"
    shutil.copytree(FIXTURES / "001-gan-ema", run)
    raw = json.loads((run / "config.json").read_text())
    assert "task" not in raw  # the pre-task layout
    raw["name"] = "digits-mlp"  # compare it with a preset: the layout is migrated first
    (run / "config.json").write_text(json.dumps(raw))
    text = build_report([run]).read_text()
    page = Page(text)
    for s in SECTIONS:
        assert s in page.ids, s
    _self_contained(text, page)
    decode_images(page)
    assert "Not evaluated yet" in text and "No <code>events.jsonl</code>" in text
    assert "No sample grids" in text
    keys = [r[0]["text"] for r in page.table("config")["rows"]]
    assert "task.ema" in keys and "loss.penalty" not in keys and "model.ema" not in keys
    diff = {r[0]["text"] for r in page.table("config")["rows"] if "diff" in r[1]["class"]}
    assert "task.ema" in diff and "task.loss.d_loss" not in diff


def test_vae_run_of_release_01_renders_its_own_statistics(tmp_path):
    run = tmp_path / "002-vae"
    shutil.copytree(FIXTURES / "002-vae", run)
    page = Page(build_report([run]).read_text())
    alts = [a["alt"] for a in page.images]
    assert any("ELBO" in a for a in alts) and any("recon" in a and "kl" in a for a in alts)
    assert page.row("metrics", "ELBO (nats) (last window)")


def test_killed_run_partial_last_lines_are_skipped(run_copy):
    run = run_copy(0)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 25, "d_loss": 1.3')  # killed mid-line
    with open(run / "events.jsonl", "a") as f:
        f.write('{"step": 25, "kind": "sig')
    data = load_run(run)
    assert data.last_step == 20 and data.skipped_lines == 2 and data.rows[-1]["step"] == 20
    text = build_report([run]).read_text()
    assert "2 unreadable line(s)" in text
    decode_images(Page(text))


def test_diverged_and_resumed_run(tmp_path):
    """A run that was resumed and then went NaN: status, events and the NaN are shown."""
    from ganforge.presets import preset_config

    run = tmp_path / "003-digits-mlp"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(preset_config("digits-mlp").to_dict()))
    rows = [{"step": s, "d_loss": 1.0, "g_loss": 0.7, "img_per_s": 900.0, "time_s": s / 10} for s in (5, 10)]
    rows += [{"step": 15, "d_loss": float("nan"), "g_loss": 0.7, "img_per_s": 900.0, "time_s": 0.3}]  # resumed
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    events = [("start", 0, "x"), ("resume", 10, "y"), ("warning", 12, "D wins"), ("warning", 13, "D wins"),
              ("diverged", 15, "d_loss became NaN/Inf near step 15")]
    (run / "events.jsonl").write_text("".join(
        json.dumps({"step": s, "kind": k, "message": m, "time": "2026-12-01T00:00:00+00:00"}) + "\n"
        for k, s, m in events))
    data = load_run(run)
    assert data.status == "diverged (NaN/Inf)"
    assert data.train_seconds == pytest.approx(1.0 + 0.3)  # two segments
    text = build_report([run]).read_text()
    page = Page(text)
    rows = page.table("events")["rows"]
    assert [r[1]["text"] for r in rows] == ["start", "resume", "warning", "diverged"]  # repeated warning folded
    assert "×2" in rows[2][2]["text"] and "1 resume(s)" in text
    assert page.row("metrics", "d_loss (last window)")[2]["text"].strip() == "NaN"
    assert "diverged (NaN/Inf)" in text


def test_not_a_run_directory_is_a_clear_error(tmp_path):
    from ganforge.errors import DataError

    with pytest.raises(DataError, match="not a run directory"):
        build_report([tmp_path])


@pytest.mark.parametrize("n", [1, 30])
def test_many_grids_are_thinned_evenly(tmp_path, run_copy, n):
    run = run_copy(0)
    grid = tmp_path / "grid.png"
    shutil.copy(run / "samples" / "step-0000020.png", grid)
    for p in (run / "samples").glob("step-*.png"):
        p.unlink()
    for i in range(1, n + 1):
        shutil.copy(grid, run / "samples" / f"step-{i * 100:07d}.png")
    page = Page(build_report([run]).read_text())
    steps = [a["alt"].split("at step ")[1].split(" ")[0] for a in page.images if a["alt"].startswith("sample grid")]
    if n == 1:
        assert steps == ["100"]
    else:
        assert len(steps) == 12 and steps[0] == "100" and steps[-1] == "3,000"

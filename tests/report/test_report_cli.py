"""`ganforge report`, `train --report`, `evaluate --report` (the evaluation kept in the
run), and the 1-D pages of `fit --report` / `compare --report`."""

import json

import numpy as np
import pytest

from ganforge.cli import main
from report_helpers import Page, decode_images


def _err(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_report_verb_one_and_two_runs(run_copy, tmp_path, capsys):
    a, b = run_copy(0, "a-run"), run_copy(1, "b-run")
    assert main(["report", str(a)]) == 0
    assert (a / "report.html").exists() and "wrote" in capsys.readouterr().out
    out = tmp_path / "both.html"
    assert main(["report", str(a), str(b), "-o", str(out), "--title", "two tiny runs"]) == 0
    text = out.read_text()
    assert "<title>two tiny runs</title>" in text and "b-run" in text
    assert main(["report", str(a), str(b), "-o", str(tmp_path)]) == 0  # a folder: report.html inside it
    assert (tmp_path / "report.html").exists()


def test_report_verb_bad_run_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "not a run directory" in _err(capsys)


def test_train_with_report(tmp_path, capsys):
    rc = main(["train", "--preset", "digits-mlp", "--steps", "10", "--batch-size", "16", "--runs-dir", str(tmp_path),
               "--set", "model.g_hidden=[16]", "--set", "model.d_hidden=[16]", "--set", "train.log_every=5",
               "--quiet", "--report"])
    assert rc == 0
    out = capsys.readouterr().out
    run = next(tmp_path.glob("001-*"))
    assert f"report:        {run / 'report.html'}" in out
    page = Page((run / "report.html").read_text())
    assert "grids" in page.ids and any(a["alt"].startswith("sample grid") for a in page.images)


def test_evaluate_keeps_the_evaluation_in_the_run_and_refreshes_the_report(run_copy, tmp_path, capsys):
    """8x8 digits: the MNIST extractor does not apply; the pixel C2ST is off for speed; the
    memorisation check runs, so the closest-pairs figure lands in RUN/eval/."""
    from ganforge.data.arrays import load_digits8

    run = run_copy(0)
    x, _ = load_digits8()
    np.savez(tmp_path / "ref.npz", images=x[:400])
    np.savez(tmp_path / "train.npz", images=x[400:])
    ckpt = sorted((run / "checkpoints").glob("step-*"))[-1]
    args = ["--ref", str(tmp_path / "ref.npz"), "--train", str(tmp_path / "train.npz"), "-n", "100",
            "--bootstrap", "0", "--no-pixel-c2st"]
    assert main(["evaluate", str(ckpt), *args, "--report"]) == 0  # a checkpoint inside the run counts
    out = capsys.readouterr().out
    assert "kept in run:" in out and "report:" in out
    latest = json.loads((run / "eval" / "latest.json").read_text())
    assert "copy_rate" in latest["metrics"] and latest["evaluated_at"]
    (key, fig), = latest["figures"].items()
    assert key == "closest pairs" and (run / "eval" / fig).exists() and fig.endswith("-closest-pairs.png")
    assert len(list((run / "eval").glob("eval-*.json"))) == 1
    page = Page((run / "report.html").read_text())
    decode_images(page)
    assert any(a["alt"].startswith("closest pairs") for a in page.images)
    assert page.row("eval", latest["metrics"]["copy_rate"]["label"])
    # A second evaluation, figure written elsewhere by the user: copied into the run, both JSONs kept.
    assert main(["evaluate", str(run), *args, "--closest-pairs", str(tmp_path / "mine.png")]) == 0
    assert (tmp_path / "mine.png").exists()
    latest = json.loads((run / "eval" / "latest.json").read_text())
    assert (run / "eval" / latest["figures"]["closest pairs"]).exists()
    assert len(list((run / "eval").glob("eval-*.json"))) == 2


def test_evaluate_report_needs_a_run(tmp_path, capsys):
    np.savez(tmp_path / "s.npz", images=np.zeros((20, 8, 8), np.uint8))
    assert main(["evaluate", str(tmp_path / "s.npz"), "--report"]) == 2
    assert "--report needs one run directory" in _err(capsys)


@pytest.fixture
def column(tmp_path):
    x = np.random.default_rng(0).normal(170, 8, 120).round(1)
    np.save(tmp_path / "h.npy", x)
    np.save(tmp_path / "d2.npy", np.random.default_rng(1).normal(172, 8, 120))
    return tmp_path


def test_fit_report(column, capsys):
    out = column / "fit.html"
    assert main(["fit", str(column / "h.npy"), "--families", "normal,logistic,uniform", "--n-mc", "9",
                 "--report", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    text = out.read_text()
    page = Page(text)
    for s in ("data", "families", "verdict"):
        assert s in page.ids
    (im,) = decode_images(page)
    assert im.size[0] > 500 and "QQ plot" in page.images[0]["alt"]
    rows = page.table("families")["rows"]
    assert len(rows) == 3 and "★" in rows[0][1]["text"]
    assert "https://" not in text and "http://" not in text
    assert "Verdict" in text


def test_compare_report(column, capsys):
    out = column / "cmp.html"
    assert main(["compare", str(column / "h.npy"), str(column / "d2.npy"), "--n-perm", "20",
                 "--report", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert str(out) in doc["files"]
    text = out.read_text()
    page = Page(text)
    for s in ("data", "distances", "c2st", "plots", "verdict"):
        assert s in page.ids
    decode_images(page)
    names = [r[0]["text"] for r in page.table("distances")["rows"]]
    assert names[:2] == ["KS statistic", "Wasserstein-1"]
    assert doc["verdict"] in text.replace("&#x27;", "'")


def test_train_report_of_a_diverged_run(tmp_path, monkeypatch, capsys):
    """A NaN stops training with an error (exit 2); --report still writes the page that shows it."""
    import ganforge.training
    from ganforge.errors import TrainingDiverged

    def diverging_train(cfg, *, runs_root, resume=None, quiet=False, data=None):
        run = tmp_path / "runs" / f"001-{cfg.name}"
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps(cfg.to_dict()))
        (run / "metrics.jsonl").write_text(json.dumps({"step": 5, "d_loss": float("nan"), "img_per_s": 1.0,
                                                       "time_s": 0.1}) + "\n")
        (run / "events.jsonl").write_text("".join(json.dumps({"step": s, "kind": k, "message": m, "time": ""}) + "\n"
                                                  for s, k, m in ((0, "start", ""), (5, "diverged", "d_loss NaN"))))
        raise TrainingDiverged("d_loss became NaN/Inf near step 5; training stopped.", run)

    monkeypatch.setattr(ganforge.training, "train", diverging_train)
    assert main(["train", "--preset", "digits-mlp", "--runs-dir", str(tmp_path / "runs"), "--quiet", "--report"]) == 2
    err = capsys.readouterr().err
    assert "report:" in err and "error: d_loss became NaN" in err
    text = (tmp_path / "runs" / "001-digits-mlp" / "report.html").read_text()
    assert "diverged (NaN/Inf)" in text and "d_loss NaN" in text

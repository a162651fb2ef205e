"""Helpers of the report tests: tiny real runs (digits-mlp, 20 steps: a second each), a
hand-written evaluation (so the evaluation section is tested without MNIST), and a small
HTML reader for what the tests look at."""

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path


def tiny(**over):
    from ganforge.presets import preset_config

    base = {"train.steps": 20, "train.log_every": 5, "train.sample_every": 10, "train.checkpoint_every": 10,
            "train.batch_size": 16, "model.g_hidden": [32], "model.d_hidden": [32]}
    return preset_config("digits-mlp").override({**base, **over})


def train_tiny(root: Path, **over) -> Path:
    import torch

    from ganforge.training import train

    torch.set_num_threads(1)
    return train(tiny(**over), runs_root=root, quiet=True).run_dir


def fake_eval(run_dir: Path, metrics: dict, *, shares=None, figure=True, num_samples=2000) -> Path:
    """RUN/eval/latest.json in EvalReport.to_dict()'s layout. ``metrics``: name -> (value, better, floor)."""
    from PIL import Image

    folder = run_dir / "eval"
    folder.mkdir(exist_ok=True)
    figures = {}
    if figure:
        Image.new("L", (64, 24), 128).save(folder / "x-closest-pairs.png")
        figures["closest pairs"] = "x-closest-pairs.png"
    d = {
        "protocol": {"source": f"{run_dir} (seed 0)", "num_samples": num_samples, "reference": "mnist-test",
                     "reference_sha256": "ab" * 32, "reference_size": 10000, "train_set": "mnist-train",
                     "train_sha256": "cd" * 32, "floor_set": "mnist-train[seeded subset]",
                     "extractor_sha256": "ef" * 32, "ganforge_version": "0.1.0", "seed": 0, "bootstrap": 0,
                     "kid_subsets": 100, "kid_subset_size": 1000, "copy_threshold": 0.05,
                     "c2st_pixels_per_side": 2000, "runs": 1, "run_seeds": [0], "seconds": 12.5,
                     "feature_space": "ganforge-mnist-cnn"},
        "metrics": {name: {"name": name, "value": v, "label": name.upper(), "better": better, "floor": floor,
                           "ci": [v * 0.9, v * 1.1], "sd": None, "p_value": None, "note": ""}
                    for name, (v, better, floor) in metrics.items()},
        "class_shares": shares, "floor_class_shares": None if shares is None else [0.1] * len(shares),
        "skipped": {"tstr": "the samples have no labels"}, "figures": figures,
        "evaluated_at": "2026-12-01T00:00:00+00:00",
    }
    (folder / "latest.json").write_text(json.dumps(d))
    return folder / "latest.json"


class Page(HTMLParser):
    """The parts of a report the tests look at: section ids, images, tables (rows of cells
    with their classes), scripts and every URL-bearing attribute."""

    def __init__(self, text: str):
        super().__init__()
        self.ids, self.images, self.tables, self.urls, self.scripts = [], [], [], [], []
        self._cell = None
        self._row = None
        self._in_thead = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for k in ("src", "href", "action", "poster"):
            if k in a:
                self.urls.append(a[k])
        if tag == "img":
            self.images.append(a)
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "table":
            self.tables.append({"class": a.get("class", ""), "head": [], "rows": []})
        elif tag == "thead":
            self._in_thead = True
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "class": a.get("class", ""), "text": ""}

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            t = self.tables[-1]
            (t["head"] if self._in_thead else t["rows"]).append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_thead = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def table(self, cls: str) -> dict:
        return next(t for t in self.tables if cls in t["class"].split())

    def row(self, cls: str, label: str) -> list[dict]:
        return next(r for r in self.table(cls)["rows"] if r and r[0]["text"].strip() == label)


def decode_images(page: Page):
    """Every inline image decoded with PIL (raises if one does not decode)."""
    from PIL import Image

    out = []
    for a in page.images:
        m = re.match(r"data:image/(png|jpeg);base64,(.*)$", a["src"], re.S)
        assert m, a["src"][:40]
        im = Image.open(io.BytesIO(base64.b64decode(m.group(2), validate=True)))
        im.load()
        out.append(im)
    return out

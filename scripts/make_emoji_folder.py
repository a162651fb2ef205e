"""Build a folder of 64×64 RGB emoji images for ``ganforge train --preset folder-dcgan``.

The npm packages ``emoji-datasource-<set>`` (https://github.com/iamcal/emoji-data) ship every
emoji as a 64×64 RGBA PNG under ``package/img/<set>/64/``, plus ``package/emoji.json`` with
each emoji's category and skin-tone variants. This script reads them straight out of the
``npm pack`` tarball (``tarfile``; nothing is unpacked to disk) and writes one RGB PNG per
emoji and a ``manifest.json``:

    mkdir -p /tmp/emo && cd /tmp/emo
    npm pack emoji-datasource-twitter@16.0.0     # 62 MB, Twemoji, CC-BY 4.0
    npm pack emoji-datasource-google@16.0.0      # Noto Emoji, Apache 2.0
    cd /work/main
    .venv/bin/python scripts/make_emoji_folder.py /tmp/emo/emoji-datasource-twitter-16.0.0.tgz \\
        /tmp/emo/emoji-datasource-google-16.0.0.tgz -o /tmp/emoji64

    # or let the script run `npm pack` (versions must be pinned):
    .venv/bin/python scripts/make_emoji_folder.py emoji-datasource-twitter@16.0.0 \\
        emoji-datasource-google@16.0.0 -o /tmp/emoji64 --pack-dir /tmp/emo

    .venv/bin/ganforge train --preset folder-dcgan --dataset /tmp/emoji64 --set train.threads=1

Preprocessing, and why:

- **RGBA → RGB on white.** The models take 3-channel images (``data.channels = 3``) and
  ganforge's folder loader calls PIL's ``convert("RGB")``, which simply *drops* alpha: the
  colour stored under fully transparent pixels (black in these files, but unspecified in
  general) would become the background, and anti-aliased edges would get dark fringes.
  Compositing ``rgb·α + 255·(1−α)`` gives the emoji as it is seen on a white page.
- **Skin-tone variants dropped** (``--keep-skin-tones`` keeps them). 1,875 of the 3,786
  Twitter images are the same glyph in five skin colours; they would make "people" five
  times over-represented and put near-duplicates into the training set, which defeats the
  copy-rate check (a sample close to one of five near-identical training images).
- **Flags dropped** (``--keep-flags`` keeps them). The 270 flags are rectangles with fine
  text-like detail, a different picture domain from the round, blobby rest.
- **Components dropped** (skin-tone swatches, hair-style fragments): not emoji on their own.
- **Exact duplicates dropped**: identical RGB images within the output (fallback glyphs).

Filenames are ``<set>_<codepoints>.png``; ``manifest.json`` records, per source tarball, the
package name and version, the tarball's sha256, and the counts kept / dropped per reason.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from ganforge.files import sha256_bytes, sha256_file

IMG_RE = re.compile(r"^package/img/([a-z]+)/64/([0-9a-f-]+)\.png$")
PINNED = re.compile(r"^(@?[A-Za-z0-9._/-]+)@(\d+\.\d+\.\d+)$")


def npm_pack(spec: str, dest: Path) -> Path:
    """Run ``npm pack name@x.y.z`` into ``dest``; return the tarball path."""
    if not PINNED.match(spec):
        raise SystemExit(f"{spec!r}: pin the version, e.g. emoji-datasource-twitter@16.0.0.")
    dest.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(dest)], check=True, capture_output=True, text=True
    ).stdout.strip().splitlines()
    return dest / out[-1]


def to_rgb_on_white(png: bytes) -> Image.Image:
    """Decode a PNG (any mode) and composite it onto white; returns an RGB image."""
    with Image.open(io.BytesIO(png)) as im:
        rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def emoji_index(tar: tarfile.TarFile) -> dict[str, tuple[str, bool]]:
    """Map image filename -> (category, is a skin-tone variant) from ``package/emoji.json``."""
    try:
        meta = json.load(tar.extractfile("package/emoji.json"))  # type: ignore[arg-type]
    except KeyError:
        return {}
    index: dict[str, tuple[str, bool]] = {}
    for e in meta:
        category = e.get("category", "")
        index[e["image"]] = (category, False)
        for v in (e.get("skin_variations") or {}).values():
            index[v["image"]] = (category, True)
    return index


def convert_tarball(
    tgz: Path,
    out: Path,
    *,
    size: int = 64,
    keep_flags: bool = False,
    keep_skin_tones: bool = False,
    categories: tuple[str, ...] = (),
    seen: set[str] | None = None,
) -> dict:
    """Write the ``size``-px images of one emoji-datasource tarball into ``out`` as RGB PNGs.

    ``seen`` holds sha256 digests of images already written (shared across tarballs so exact
    duplicates are written once). ``categories``: keep only these emoji.json categories
    (e.g. "Smileys & Emotion"); empty = all. Returns this source's manifest entry."""
    seen = set() if seen is None else seen
    dropped = {"flag": 0, "skin_tone": 0, "component": 0, "duplicate": 0, "not_in_emoji_json": 0,
               "other_category": 0}
    kept = 0
    pattern = re.compile(IMG_RE.pattern.replace("/64/", f"/{size}/"))
    with tarfile.open(tgz, "r:*") as tar:
        try:
            pkg = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
        except KeyError:
            pkg = {}
        index = emoji_index(tar)
        sets: set[str] = set()
        for m in tar:
            match = pattern.match(m.name)
            if not match or not m.isfile():
                continue
            set_name, code = match.groups()
            fname = f"{code}.png"
            category, skin = index.get(fname, (None, False)) if index else ("", False)
            if category is None:
                dropped["not_in_emoji_json"] += 1
                continue
            if skin and not keep_skin_tones:
                dropped["skin_tone"] += 1
                continue
            if category == "Flags" and not keep_flags:
                dropped["flag"] += 1
                continue
            if category == "Component":
                dropped["component"] += 1
                continue
            if categories and category not in categories:
                dropped["other_category"] += 1
                continue
            rgb = to_rgb_on_white(tar.extractfile(m).read())  # type: ignore[union-attr]
            if rgb.size != (size, size):
                rgb = rgb.resize((size, size), Image.Resampling.LANCZOS)
            digest = sha256_bytes(np.asarray(rgb))
            if digest in seen:
                dropped["duplicate"] += 1
                continue
            seen.add(digest)
            rgb.save(out / f"{set_name}_{code}.png", optimize=True)
            sets.add(set_name)
            kept += 1
    return {
        "tarball": tgz.name,
        "sha256": sha256_file(tgz),
        "package": pkg.get("name"),
        "version": pkg.get("version"),
        "sets": sorted(sets),
        "count": kept,
        "dropped": dropped,
    }


def build(sources: list[str], out: Path, *, pack_dir: Path, **opts) -> dict:
    """Convert every source (a .tgz path, or a pinned ``name@x.y.z`` to ``npm pack``) into
    ``out`` and write ``out/manifest.json``; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.png")):
        raise SystemExit(f"{out} already holds PNG files; pass an empty or new folder.")
    seen: set[str] = set()
    entries = []
    for src in sources:
        tgz = Path(src) if Path(src).is_file() else npm_pack(src, pack_dir)
        entries.append(convert_tarball(tgz, out, seen=seen, **opts))
        print(f"{tgz.name}: {entries[-1]['count']} images, dropped {entries[-1]['dropped']}", file=sys.stderr)
    manifest = {
        "count": sum(e["count"] for e in entries),
        "size": opts.get("size", 64),
        "mode": "RGB, RGBA composited onto white",
        "keep_flags": opts.get("keep_flags", False),
        "keep_skin_tones": opts.get("keep_skin_tones", False),
        "categories": list(opts.get("categories", ())),
        "sources": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="+", help="npm-pack tarballs (.tgz) or pinned package specs name@x.y.z")
    ap.add_argument("-o", "--out", type=Path, required=True, help="output folder (new or empty)")
    ap.add_argument("--pack-dir", type=Path, default=Path("."), help="where `npm pack` puts tarballs")
    ap.add_argument("--size", type=int, default=64, help="image folder inside the package (img/<set>/<size>/)")
    ap.add_argument("--keep-flags", action="store_true")
    ap.add_argument("--keep-skin-tones", action="store_true")
    ap.add_argument("--category", action="append", default=[],
                    help='keep only this emoji.json category (repeatable), e.g. "Smileys & Emotion" for a folder '
                         "of faces")
    a = ap.parse_args(argv)
    m = build(
        a.sources, a.out, pack_dir=a.pack_dir, size=a.size, keep_flags=a.keep_flags, keep_skin_tones=a.keep_skin_tones,
        categories=tuple(a.category),
    )
    print(f"wrote {m['count']} RGB images and manifest.json to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Verb: translate (apply a trained image-to-image model, kind=srgan or pix2pix, to images)."""

from __future__ import annotations

import argparse

from ganforge.cli import positive_int

RAW = argparse.RawDescriptionHelpFormatter


def add_parser(sub) -> None:
    p = sub.add_parser(
        "translate", help="apply a trained SRGAN / pix2pix model to images", formatter_class=RAW,
        description="Run the generator of an image-to-image run (kind=srgan or kind=pix2pix), in eval mode, on new "
                    "inputs. INPUT: a PNG, a folder of images (with A/ and B/ sub-folders: inputs and their targets) "
                    "or an .npz ('inputs' or 'images', optional 'targets'). OUTPUT: a .png grid with one row per "
                    "image (input | output | target where targets exist), a folder of PNGs, or an .npz "
                    "('images' = outputs, 'inputs', 'targets').",
        epilog="examples:\n"
               "  ganforge translate runs/003-mnist-sr4 small.png -o big.png\n"
               "  ganforge translate runs/004-mnist-edges2digits edges/ -o digits/\n"
               "See docs/image-to-image.md.",
    )
    p.add_argument("run", metavar="RUN", help="a run directory or checkpoint of kind srgan or pix2pix")
    p.add_argument("input", metavar="INPUT", help="a PNG, a folder of images, or an .npz")
    p.add_argument("-o", "--out", required=True, metavar="OUTPUT", help="a .png grid, an .npz, or a folder name")
    p.add_argument("--batch-size", type=positive_int, default=500)
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_translate)


def cmd_translate(args) -> int:
    from ganforge.devices import require_device
    from ganforge.translate import translate_files

    device = require_device(args.device, "--device")
    w = translate_files(args.run, args.input, args.out, batch_size=args.batch_size, device=device)
    print(f"wrote {w['n']} translation(s) to {w['output']} ({w['rows']})")
    return 0

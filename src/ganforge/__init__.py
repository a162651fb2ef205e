"""ganforge: learn a data distribution, generate new samples, measure how similar they are."""

__version__ = "0.1.0"

from ganforge.errors import GanforgeError  # noqa: E402


def __getattr__(name):  # lazy: `import ganforge` must not pay for torch
    if name == "load_generator":
        from ganforge.sampling import load_generator

        return load_generator
    if name == "load_translator":  # image-to-image runs (kind=srgan, pix2pix)
        from ganforge.translate import load_translator

        return load_translator
    if name == "evaluate":
        from ganforge.eval import evaluate

        return evaluate
    raise AttributeError(f"module 'ganforge' has no attribute {name!r}")


__all__ = ["GanforgeError", "load_generator", "load_translator", "evaluate", "__version__"]

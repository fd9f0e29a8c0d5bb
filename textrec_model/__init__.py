"""textrec_model: models, training and inference (see docs/DESIGN.md)."""


def __getattr__(name: str):
    """``from textrec_model import Recognizer``: imported on first use (torch loads then)."""
    if name == "Recognizer":
        from textrec_model.recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'textrec_model' has no attribute {name!r}")

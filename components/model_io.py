"""The ``model`` family: save fitted models to skops files and load them back safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components._files import AtomicOutput
from runtime import Params, component, input_path, output_path, plain


class UntrustedModelError(LookupError):
    """A model file names types that could run code on loading; it is not loaded."""


def _names(types: list[str]) -> str:
    shown = ", ".join(plain(n) for n in types[:10])
    return shown + (f" and {len(types) - 10} more" if len(types) > 10 else "")


class SaveParams(Params):
    """Settings of ``model.save``."""

    path: str = output_path("The .skops file to write; relative to the flow file's folder.")


@component("model.save", inputs={"model": "Model"}, params=SaveParams, threaded=True)
class Save:
    """Save a fitted model as a skops file (``skops.io.dump``), which ``model.load`` reads.

    When several models arrive, the file holds the last one. A model whose file
    ``model.load`` would refuse (it holds types other than those of Python, numpy, scipy
    and scikit-learn) is refused here, by name. The file is replaced atomically when the
    input ends, and only if every model was saved: if one fails, the file already at
    ``path`` stays exactly as it was. If no model arrives, nothing is written and the end
    of the input is reported as an error. Only a regular file is ever replaced.
    """

    def __init__(self, params: SaveParams) -> None:
        self.params = params
        self.out = AtomicOutput(params.path, binary=True)
        self.saved = 0

    def __call__(self, model: Any) -> None:
        """Serialise one model and make it the file's content."""
        from runtime import dump_model

        with self.out.firing():
            data, refused = dump_model(model)
            if refused:
                msg = (f"the {type(model).__name__} received holds {_names(refused)}, which "
                       "model.load refuses (only data types of Python, numpy, scipy and "
                       "scikit-learn are loaded); save a scikit-learn model")
                raise TypeError(msg)
            handle = self.out.buffer()
            handle.seek(0)
            handle.truncate()
            handle.write(data)
            self.saved += 1

    def end(self) -> None:
        """Move the file into place, if a model was saved.

        Raises:
            LookupError: no model arrived; the file at ``path`` is left as it was.
        """
        if self.saved == 0 and not self.out.failed:
            what = "it is left as it was" if self.out.path.exists() else "no file was made"
            msg = f"no model arrived, so {self.out.path} was not written; {what}"
            raise LookupError(msg)
        self.out.finish()

    def close(self) -> None:
        """Drop an unfinished file if the run ended early."""
        self.out.discard()


class LoadParams(Params):
    """Settings of ``model.load``."""

    path: str = input_path("The .skops file to read; relative to the flow file's folder.")


@component("model.load", outputs={"model": "Model"}, params=LoadParams, threaded=True)
def load(*, params: LoadParams) -> Any:
    """Load a model saved as a skops file; emit it once.

    The same rule as for the models of kept runs applies: the file is loaded only if every
    type it names is a data type of Python, numpy or scipy, or a scikit-learn class. A file
    naming anything else (say ``builtins.eval``, which a tampered file uses to run code) is
    refused before anything in it is built, with the types named.
    """
    import skops.io

    from runtime import UnsafeModelError, load_model, refused_types

    path = Path(params.path)
    try:
        listed = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        msg = (f"{path} is not a readable skops model file ({type(exc).__name__}: "
               f"{plain(exc)}); save models with model.save")
        raise UntrustedModelError(msg) from None
    refused = refused_types(listed)
    if refused:
        msg = (f"{path} names {_names(refused)}, which is not a data type of Python, numpy, "
               "scipy or scikit-learn and could run code on loading; the model is not "
               "loaded. Only load model files from people you trust")
        raise UntrustedModelError(msg)
    try:
        return load_model(path, "the model")
    except UnsafeModelError as exc:
        raise UntrustedModelError(str(exc)) from None

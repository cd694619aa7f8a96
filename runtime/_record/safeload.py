"""Load a kept model (a skops file) only when every type it names is on an explicit allow-list.

The rule. skops lists the types a file would import and call on load beyond its own
defaults (``skops.io.get_untrusted_types``). A kept model is loaded only when each of them
is one of:

- a plain data type of Python: ``dict``, ``list``, ``tuple``, ``str``, ``int``, ``float``,
  ``bool``, ``complex``, ``bytes``, ``bytearray``, ``set``, ``frozenset``, ``slice``,
  ``range``;
- a numpy array, dtype or scalar type, a masked array, or a numpy random state or bit
  generator;
- a scipy sparse matrix or array class;
- a scikit-learn estimator class (every class ``sklearn.utils.all_estimators`` lists, and
  the pipeline and composition classes), or one of the internal classes fitted estimators
  hold: decision trees and histogram-boosting predictors, KD and ball trees with their
  distance metrics, losses, link functions and binners.

Every name on the list is computed from the class itself, never read from a file, so the
list holds classes only. No function can be named by a kept file and called on load: not
``builtins.eval``, ``exec``, ``getattr``, ``__import__``, ``compile`` or ``open``, not
``os.system``, not ``numpy.load``. A name outside the list, however harmless it looks, is
refused with :class:`UnsafeModelError` before anything in the file is built.

A run kept by someone else may have been edited; this is what makes opening it safe.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from runtime._errors import EdgewiseError
from runtime._terminal import plain

PYTHON_DATA_TYPES = ("bool", "int", "float", "complex", "str", "bytes", "bytearray", "list",
                     "tuple", "dict", "set", "frozenset", "slice", "range")
PYTHON_CODE_RUNNERS = ("builtins.eval", "builtins.exec", "builtins.getattr",
                       "builtins.__import__", "builtins.compile", "builtins.open",
                       "builtins.setattr", "builtins.delattr", "builtins.globals",
                       "builtins.vars", "builtins.breakpoint", "builtins.input")


class UnsafeModelError(EdgewiseError, LookupError):
    """A kept model names types outside the allow-list, or cannot be read; it is not loaded."""


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _numpy_types() -> set[str]:
    import numpy as np

    classes: list[type] = [np.ndarray, np.dtype, np.ma.MaskedArray, np.random.RandomState,
                           np.random.Generator, np.random.SeedSequence]
    classes += [t for t in np.sctypeDict.values() if isinstance(t, type)]
    classes += [t for t in vars(np.dtypes).values()
                if isinstance(t, type) and issubclass(t, np.dtype)]
    classes += [t for t in vars(np.random).values()
                if isinstance(t, type) and issubclass(t, np.random.BitGenerator)]
    names = {_name(t) for t in classes}
    names |= {f"numpy.{t.__name__}" for t in classes if getattr(np, t.__name__, None) is t}
    names |= {f"numpy.random.{t.__name__}" for t in classes
              if getattr(np.random, t.__name__, None) is t}
    return names


def _scipy_types() -> set[str]:
    import scipy.sparse as sp

    kinds = ("bsr", "coo", "csc", "csr", "dia", "dok", "lil")
    classes = [getattr(sp, f"{k}_{form}") for k in kinds for form in ("matrix", "array")
               if hasattr(sp, f"{k}_{form}")]
    return {_name(t) for t in classes} | {f"scipy.sparse.{t.__name__}" for t in classes}


def _classes_in(module: Any, base: type) -> list[type]:
    return [t for t in vars(module).values() if isinstance(t, type) and issubclass(t, base)]


def _sklearn_types() -> set[str]:
    import sklearn._loss.link as link
    import sklearn._loss.loss as loss
    import sklearn.metrics._dist_metrics as metrics
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.neighbors import BallTree, KDTree
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.tree._tree import Tree
    from sklearn.utils import all_estimators

    classes: list[type] = [cls for _, cls in all_estimators()]
    classes += [Pipeline, FeatureUnion, ColumnTransformer, TransformedTargetRegressor, Tree,
                TreePredictor, _BinMapper, KDTree, BallTree]
    classes += [t for t in _classes_in(metrics, metrics.DistanceMetric)
                if "PyFunc" not in t.__name__]  # PyFuncDistance calls a Python function
    for bits in ("64", "32"):
        base = getattr(metrics, f"DistanceMetric{bits}", None)
        if isinstance(base, type):
            classes += [t for t in _classes_in(metrics, base) if "PyFunc" not in t.__name__]
    classes += _classes_in(loss, loss.BaseLoss) + _classes_in(link, link.BaseLink)
    classes.append(link.Interval)
    return {_name(t) for t in classes if t.__module__.startswith("sklearn.")}


# sklearn's all_estimators imports every sklearn module, and skops runs it when its
# _trusted_types module is imported: two threads at it at once (two model.register nodes)
# race on a module whose import fails (array_api_compat.torch) and one gets a KeyError.
_WALKING = threading.Lock()


@functools.cache
def _trusted_types() -> frozenset[str]:
    names = {f"builtins.{t}" for t in PYTHON_DATA_TYPES}
    names |= _numpy_types() | _scipy_types() | _sklearn_types()
    return frozenset(names - set(PYTHON_CODE_RUNNERS))


def trusted_types() -> frozenset[str]:
    """Every type name a kept model may hold (see the module docstring for the rule)."""
    with _WALKING:
        import skops.io._trusted_types  # noqa: F401 - its own walk first, never beside ours

        return _trusted_types()


def refused_types(names: list[str]) -> list[str]:
    """The names, of those a skops file lists, that are not on the allow-list."""
    allowed = trusted_types()
    return [n for n in names if n not in allowed]


def dump_model(model: Any) -> tuple[bytes, list[str]]:
    """Serialize ``model`` as skops bytes, and name what the safe-load rule would refuse.

    Writers call this before keeping a model, so that no file is written that
    :func:`load_model` would then refuse; each caller words its own refusal.

    Returns:
        The skops bytes, and the type names they hold that are not on the allow-list
        (empty when the model can be loaded back).
    """
    import skops.io

    data: bytes = skops.io.dumps(model)
    return data, refused_types(skops.io.get_untrusted_types(data=data))


def check_model(path: Path, what: str) -> list[str]:
    """Check a kept skops model against the allow-list without loading it.

    Returns:
        The type names the file lists, to pass to ``skops.io.load`` as trusted.

    Raises:
        UnsafeModelError: the file names a type outside the allow-list, or is not a
            readable skops file.
    """
    import skops.io

    try:
        listed: list[str] = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - any failure to read the file is a refusal
        msg = (f"{what} in {path} cannot be read as a skops file "
               f"({type(exc).__name__}: {plain(exc)}); not loaded")
        raise UnsafeModelError(msg) from None
    refused = refused_types(listed)
    if refused:
        names = ", ".join(plain(n) for n in refused[:10]) + (
            f" and {len(refused) - 10} more" if len(refused) > 10 else "")
        code = [n for n in refused if n in PYTHON_CODE_RUNNERS or not n.startswith(
            ("sklearn.", "numpy.", "scipy.", "builtins."))]
        why = (" (this runs code: the file was probably tampered with)" if code else "")
        msg = (f"{what} in {path} names {names}, which is not a data type of Python, numpy, "
               f"scipy or scikit-learn{why}; not loaded, to be safe. Only open kept runs "
               "from people you trust")
        raise UnsafeModelError(msg)
    return listed


def load_model(path: Path, what: str) -> Any:
    """Load a kept skops model after checking every type it names against the allow-list.

    Args:
        path: the ``.skops`` file.
        what: how to name the model in messages, e.g. "the model of message 12".

    Raises:
        UnsafeModelError: the file names a type outside the allow-list, or is not a
            readable skops file.
    """
    import skops.io

    listed = check_model(path, what)
    try:
        return skops.io.load(path, trusted=listed)
    except Exception as exc:  # noqa: BLE001 - a damaged file is reported, not raised raw
        msg = (f"{what} in {path} could not be loaded ({type(exc).__name__}: {plain(exc)})")
        raise UnsafeModelError(msg) from None

"""The ``dataset`` family: the small data sets that ship inside scikit-learn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from runtime import Params, component

if TYPE_CHECKING:
    import pandas as pd

DatasetName = Literal["iris", "wine", "breast_cancer", "diabetes", "digits"]


class LoadParams(Params):
    """Settings of ``dataset.load``."""

    name: DatasetName = Field(description="Which data set to load; all ship with scikit-learn.")


@component("dataset.load", outputs={"data": "DataFrame"}, params=LoadParams, threaded=True)
def load(*, params: LoadParams) -> pd.DataFrame:
    """Load a data set bundled with scikit-learn as one DataFrame.

    The features keep their scikit-learn names; the label column is ``target``. Row ids
    are the row numbers of the data set. Nothing is downloaded.
    """
    from sklearn import datasets

    loader = getattr(datasets, f"load_{params.name}")
    frame: pd.DataFrame = loader(as_frame=True).frame
    return frame

"""ESMM: the Entire Space Multi-task Model of the click -> conversion funnel."""

import numpy as np

from .. import nn
from .._training.options import TRAINING_CONSTRAINTS
from ..nn.numeric import PERIODIC_SIGMA
from ._architecture import UNITS_CONSTRAINT, Architecture
from ._base import MultiTaskClassifier, set_init_parameters
from ._docstrings import fill_doc
from ._network_docs import NETWORK_DOCS

_DOCS = {
    **NETWORK_DOCS,
    "esmm_parameters": """\
    bottom_units : tuple of int, default=(64,)
        Hidden layer widths of the bottom shared by the two towers (the
        paper shares the embeddings); ``()`` lets the towers read ``X``.

    tower_units : tuple of int, default=(32,)
        Hidden layer widths of the CTR and the CVR tower; ``()`` gives linear
        heads on the bottom.""",
    "references": """\
    .. [1] X. Ma, L. Zhao, G. Huang, Z. Wang, Z. Hu, X. Zhu and K. Gai, "Entire
       Space Multi-Task Model: An Effective Approach for Estimating Post-Click
       Conversion Rate", SIGIR 2018.""",
}


@fill_doc(_DOCS)
class ESMM(Architecture):
    """The Entire Space Multi-task Model, as a parameter object.

    A CTR and a CVR tower over a shared bottom, trained on CTR and
    CTCVR = pCTR x pCVR [1]_; two binary tasks, click then conversion.

    Parameters
    ----------
    %(esmm_parameters)s

    References
    ----------
    %(references)s
    """

    name = "esmm"
    module = nn.ESMMModule
    mixed_tasks = False  # two binary tasks, click then conversion
    optional_units = ("bottom_units", "tower_units")
    _parameter_constraints: dict = {
        "bottom_units": UNITS_CONSTRAINT,
        "tower_units": UNITS_CONSTRAINT,
    }

    def __init__(self, bottom_units=(64,), *, tower_units=(32,)):
        set_init_parameters(self, locals())

    def check_tasks(self, task_types):
        if len(task_types) != 2 or not set(task_types) <= {"binary", "probabilistic"}:
            raise ValueError(
                f"ESMM models two binary tasks, click then conversion; the tasks are {task_types}."
            )


@fill_doc(_DOCS)
class ESMMClassifier(MultiTaskClassifier):
    """Entire Space Multi-task Model (ESMM) for the click -> conversion funnel.

    ``y`` has two binary columns over all impressions: click and conversion
    (a conversion implies a click). A CTR tower and a CVR tower over a
    shared bottom give pCTR and pCVR = P(conversion | click); the model is
    trained on CTR and on CTCVR = pCTR x pCVR, both over the entire
    impression space, which avoids the sample-selection bias of training CVR
    on clicked impressions only [1]_. ``predict_proba`` returns
    ``[P(click), P(conversion)]`` in the multi-output list form, with
    P(conversion) = pCTCVR <= pCTR by construction; ``predict_cvr_proba``
    returns pCVR.

    Parameters
    ----------
    %(esmm_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    See Also
    --------
    SharedBottomClassifier : The same towers with independent CTR and CVR losses.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import ESMMClassifier
    >>> from sklearn_mtl.datasets import make_click_conversion
    >>> X, Y = make_click_conversion(2000, random_state=0)  # columns: click, conversion
    >>> model = ESMMClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> p_click, p_conversion = model.predict_proba(X[:3])
    >>> bool((p_conversion[:, 1] <= p_click[:, 1]).all())
    True
    >>> model.predict_cvr_proba(X[:3]).shape
    (3,)
    """

    _architecture_class = ESMM
    _parameter_constraints: dict = {**ESMM._parameter_constraints, **TRAINING_CONSTRAINTS}

    def __init__(
        self,
        bottom_units=(64,),
        *,
        tower_units=(32,),
        activation="relu",
        dropout=0.0,
        max_epochs=50,
        batch_size=256,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule="constant",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        early_stopping_task=None,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        categorical_features="from_dtype",
        embedding_dim="auto",
        min_frequency=None,
        numeric_embedding="linear",
        numeric_embedding_size=32,
        periodic_sigma=PERIODIC_SIGMA,
        numeric_missing="error",
        loss_weighting="equal",
        task_weights=None,
        loss_normalization="batch",
        accelerator=None,
        warm_start=False,
        compile=False,
    ):
        set_init_parameters(self, locals())

    def _make_tasks(self, y, missing, single_output, classes=None):
        if single_output or y.shape[1] != 2:
            shape = (y.shape[0],) if single_output else y.shape
            raise ValueError(
                "ESMMClassifier needs y of shape (n_samples, 2): the click and the "
                f"conversion label of every impression; got shape {shape}."
            )
        tasks = super()._make_tasks(y, missing, single_output, classes)
        if [task.head_size for task in tasks] != [1, 1]:
            raise ValueError(
                "ESMMClassifier's click and conversion tasks must be binary; they have "
                f"{[len(task.classes) for task in tasks]} classes."
            )
        return tasks

    def _check_targets(self, encoded, missing):
        # encoded 1 is each task's second (positive) class
        broken = np.flatnonzero(
            (encoded[:, 1] == 1) & (encoded[:, 0] == 0) & ~missing[:, 0] & ~missing[:, 1]
        )
        if broken.size:
            raise ValueError(
                f"y has {broken.size} row(s) with a conversion but no click (first: row "
                f"{broken[0]}); ESMM's conversion labels cover all impressions and a "
                "conversion implies a click. Mark unknown labels NaN instead."
            )

    def predict_cvr_proba(self, X):
        """Post-click conversion rate, pCVR = P(conversion | click, x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        pcvr : ndarray of shape (n_samples,)
            ``predict_proba(X)[1][:, 1] / predict_proba(X)[0][:, 1]``, read
            directly from the CVR tower.
        """
        logits = self._apply_module(X, lambda module, x: module.ctr_cvr_logits(x)[:, 1])
        return 1.0 / (1.0 + np.exp(-logits))

"""ESMM: the Entire Space Multi-task Model of the click -> conversion funnel."""

import numpy as np

from .. import nn
from .._docstrings import estimator_doc
from ..base import TRAINING_CONSTRAINTS, UNITS_CONSTRAINT, MultiTaskClassifier, check_units


class ESMMClassifier(MultiTaskClassifier):
    _parameter_constraints: dict = {"bottom_units": UNITS_CONSTRAINT, **TRAINING_CONSTRAINTS}

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
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        categorical_features="from_dtype",
        embedding_dim="auto",
        min_frequency=None,
        loss_weighting="equal",
        task_weights=None,
        accelerator=None,
        warm_start=False,
    ):
        self.bottom_units = bottom_units
        self.tower_units = tower_units
        self.activation = activation
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.categorical_features = categorical_features
        self.embedding_dim = embedding_dim
        self.min_frequency = min_frequency
        self.loss_weighting = loss_weighting
        self.task_weights = task_weights
        self.accelerator = accelerator
        self.warm_start = warm_start

    def _build_module(self, n_features, head_sizes):
        return nn.ESMM(
            n_features,
            bottom_units=check_units("bottom_units", self.bottom_units, allow_empty=True),
            tower_units=check_units("tower_units", self.tower_units, allow_empty=True),
            activation=self.activation,
            dropout=self.dropout,
        )

    def _encode_targets(self, y, missing, single_output, known=None):
        if single_output or y.shape[1] != 2:
            shape = (y.shape[0],) if single_output else y.shape
            raise ValueError(
                "ESMMClassifier needs y of shape (n_samples, 2): the click and the "
                f"conversion label of every impression; got shape {shape}."
            )
        encoded, task_types, head_sizes, fitted = super()._encode_targets(
            y, missing, single_output, known
        )
        if head_sizes != [1, 1]:
            raise ValueError(
                "ESMMClassifier's click and conversion tasks must be binary; they have "
                f"{[len(c) for c in fitted['classes_']]} classes."
            )
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
        return encoded, task_types, head_sizes, fitted

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


ESMMClassifier.__doc__ = estimator_doc(
    "ESMMClassifier",
    "classifier",
    summary="""\
Entire Space Multi-task Model (ESMM) for the click -> conversion funnel.

    ``y`` has two binary columns over all impressions: click and conversion
    (a conversion implies a click). A CTR tower and a CVR tower over a
    shared bottom give pCTR and pCVR = P(conversion | click); the model is
    trained on CTR and on CTCVR = pCTR x pCVR, both over the entire
    impression space, which avoids the sample-selection bias of training CVR
    on clicked impressions only [1]_. ``predict_proba`` returns
    ``[P(click), P(conversion)]`` in the multi-output list form, with
    P(conversion) = pCTCVR <= pCTR by construction; ``predict_cvr_proba``
    returns pCVR.""",
    parameters="""\
    bottom_units : tuple of int, default=(64,)
        Hidden layer widths of the bottom shared by the two towers (the
        paper shares the embeddings); ``()`` lets the towers read ``X``.

%(tower_parameters)s

%(training_parameters)s""",
    see_also="    SharedBottomClassifier : The same towers with independent CTR and CVR losses.",
    references="""\
    .. [1] X. Ma, L. Zhao, G. Huang, Z. Wang, Z. Hu, X. Zhu and K. Gai, "Entire
       Space Multi-Task Model: An Effective Approach for Estimating Post-Click
       Conversion Rate", SIGIR 2018.""",
    examples="""\
    >>> from sklearn_mtl import ESMMClassifier
    >>> from sklearn_mtl.datasets import make_click_conversion
    >>> X, Y = make_click_conversion(2000, random_state=0)  # columns: click, conversion
    >>> model = ESMMClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> p_click, p_conversion = model.predict_proba(X[:3])
    >>> bool((p_conversion[:, 1] <= p_click[:, 1]).all())
    True
    >>> model.predict_cvr_proba(X[:3]).shape
    (3,)""",
)

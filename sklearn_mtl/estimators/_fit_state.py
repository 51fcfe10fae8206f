"""What a fit learns besides the weights, in one object.

``fit`` builds a :class:`FitState`, the net builder reads it, ``partial_fit``
and warm starts encode new batches with it, and :func:`sklearn_mtl.load`
rebuilds it from a file. Model files (format version 1) store it as the
private attributes ``_task_types``, ``_head_sizes``, ``_single_output``,
``_input_encoder`` and ``_seed``; :meth:`FitState.file_state` and
:meth:`FitState.from_file_state` translate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._task_encoders import TaskEncoder, task_from_fitted

FILE_STATE = ("_head_sizes", "_task_types", "_single_output", "_input_encoder", "_seed")
"""The private attributes of a model file that hold the fit state."""


@dataclass
class FitState:
    """The tasks, the input encoding and the seed of a fit.

    Parameters
    ----------
    tasks : list of TaskEncoder
        One fitted encoder per column of ``y``.
    single_output : bool
        Whether ``y`` was 1-D (predictions then have sklearn's 1-D shapes).
    inputs : InputEncoder or None, default=None
        The networks' input encoding (None for the linear models).
    seed : int or None, default=None
        The seed the network was initialised from (None for the linear models).
    """

    tasks: list[TaskEncoder]
    single_output: bool
    inputs: object = None
    seed: int | None = None

    @property
    def head_sizes(self) -> list[int]:
        return [task.head_size for task in self.tasks]

    @property
    def task_types(self) -> list[str]:
        return [task.kind for task in self.tasks]

    def head_slices(self):
        """Each task's columns in the network's output."""
        start = 0
        for size in self.head_sizes:
            yield slice(start, start + size)
            start += size

    def file_state(self, network: bool) -> dict:
        """The private attributes a model file stores for this state."""
        state = {"_single_output": self.single_output, "_head_sizes": self.head_sizes}
        if network:
            state.update(_task_types=self.task_types, _input_encoder=self.inputs, _seed=self.seed)
        return state

    @classmethod
    def from_file_state(cls, state: dict) -> FitState:
        """The fit state of a file's checked attributes (and their fitted ones)."""
        n_tasks = state["n_tasks_"]
        single = state["_single_output"]
        classes = state.get("classes_")
        classes = [None] * n_tasks if classes is None else [classes] if single else classes
        kinds = state.get("_task_types")
        network = kinds is not None  # a linear model: binary classifier or plain regressor
        if not network:
            kinds = ["regression" if c is None else "binary" for c in classes]
        mean = state.get("target_mean_", np.zeros(n_tasks))
        scale = state.get("target_scale_", np.ones(n_tasks))
        tasks = [
            task_from_fitted(kind, c, m, s, standardize=network)
            for kind, c, m, s in zip(kinds, classes, mean, scale)
        ]
        return cls(tasks, single, state.get("_input_encoder"), state.get("_seed"))

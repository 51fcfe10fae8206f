"""Export for serving: a fitted network and its input standardisation as ONNX.

``to_onnx(model)`` traces the network with torch's ``torch.export``-based ONNX
exporter (which needs the ``onnx`` and ``onnxscript`` packages). The graph
takes the raw float32 inputs (the numeric columns, standardised inside the
graph as in ``predict``) and returns one output per task, in task order:

- ``probabilities_task{t}``, shape ``(n, n_classes)`` in the order of
  ``classes_[t]``, for a classification task (what ``predict_proba`` gives);
- ``values_task{t}``, shape ``(n,)``, for a regression task (``predict``'s
  column, in the target's units).

A model whose inputs include categorical columns is refused: the mapping of
categories to embedding rows happens before the network, outside what the
export traces. Encode such columns upstream of the model, or serve it in
Python.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

__all__ = ["to_onnx"]


class _ServingGraph(nn.Module):
    """The fitted network followed by each task's output transform."""

    def __init__(self, network, task_losses, head_sizes, target_mean, target_scale):
        super().__init__()
        self.network = network
        self.task_losses = list(task_losses)
        self.head_sizes = list(head_sizes)
        self.register_buffer("target_mean", torch.as_tensor(target_mean, dtype=torch.float32))
        self.register_buffer("target_scale", torch.as_tensor(target_scale, dtype=torch.float32))

    def forward(self, X):
        logits = self.network(X)
        outputs, start = [], 0
        for t, (loss, size) in enumerate(zip(self.task_losses, self.head_sizes)):
            head = logits[:, start : start + size]
            start += size
            if loss == "regression":
                outputs.append(head[:, 0] * self.target_scale[t] + self.target_mean[t])
            elif loss == "binary":
                positive = torch.sigmoid(head)
                outputs.append(torch.cat([1.0 - positive, positive], dim=1))
            else:
                outputs.append(torch.softmax(head, dim=1))
        return tuple(outputs)


def to_onnx(estimator, path=None, *, opset_version=None):
    """Export a fitted network of sklearn_mtl, with its input standardisation, to ONNX.

    Parameters
    ----------
    estimator : neural estimator of sklearn_mtl
        Fitted, on numeric inputs only.
    path : str, path-like or None, default=None
        Where to write the model; None writes nothing.
    opset_version : int or None, default=None
        The ONNX opset; None takes the exporter's default.

    Returns
    -------
    model : onnx.ModelProto
        The graph: input ``X`` (float32, ``(n, n_features_in_)``, any ``n``),
        outputs ``probabilities_task{t}`` or ``values_task{t}``.

    Raises
    ------
    TypeError
        If ``estimator`` is not a network of the package.
    ValueError
        If its inputs include categorical columns.
    """
    from .base import BaseMultiTaskNet

    if not isinstance(estimator, BaseMultiTaskNet):
        raise TypeError(
            f"to_onnx exports the networks of sklearn_mtl; got {type(estimator).__name__} "
            "(a linear model is a matrix product: use its coef_ and intercept_)."
        )
    check_is_fitted(estimator)
    if estimator.is_categorical_.any():
        names = getattr(estimator, "feature_names_in_", None)
        columns = (
            list(names[estimator.is_categorical_])
            if names is not None
            else estimator.is_categorical_.nonzero()[0].tolist()
        )
        raise ValueError(
            f"to_onnx exports numeric inputs only; this model embeds the categorical columns "
            f"{columns}. Encode them upstream (e.g. one-hot in a ColumnTransformer) to export."
        )
    state = estimator._fit_state
    n_tasks = len(state.tasks)
    losses = [task.loss for task in state.tasks]
    graph = _ServingGraph(
        _cpu_copy(estimator.net_.module_),
        losses,
        state.head_sizes,
        getattr(estimator, "target_mean_", [0.0] * n_tasks),
        getattr(estimator, "target_scale_", [1.0] * n_tasks),
    ).eval()
    example = torch.zeros(2, estimator.n_features_in_)
    names = [
        f"values_task{t}" if loss == "regression" else f"probabilities_task{t}"
        for t, loss in enumerate(losses)
    ]
    with torch.no_grad(), _exporter_notices_silenced():
        program = torch.onnx.export(
            graph,
            (example,),
            input_names=["X"],
            output_names=names,
            dynamic_shapes=({0: torch.export.Dim("n_samples")},),
            opset_version=opset_version,
            dynamo=True,
            verbose=False,
        )
    model = program.model_proto
    if path is not None:
        with open(path, "wb") as file:
            file.write(model.SerializeToString())
    return model


@contextlib.contextmanager
def _exporter_notices_silenced():
    """Hide the exporter's notices that concern nothing the user did.

    torch's ONNX exporter logs "torchvision is not installed. Skipping
    torchvision::nms" (and three more) when it registers its operators, and
    torch.export warns that ``LeafSpec`` is deprecated from inside its own
    code. Other warnings and errors pass.
    """
    logger = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
            yield
    finally:
        logger.setLevel(level)


def _cpu_copy(module: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(module).to("cpu")

"""Export for serving: a fitted network, its input encoding, or a whole pipeline, as ONNX.

``to_onnx(model)`` traces the network with torch's ``torch.export``-based ONNX
exporter (which needs the ``onnx`` and ``onnxscript`` packages). The graph
takes the raw inputs and returns one output per task, in task order:

- ``probabilities_task{t}``, shape ``(n, n_classes)`` in the order of
  ``classes_[t]``, for a classification task (what ``predict_proba`` gives);
- ``values_task{t}``, shape ``(n,)``, for a regression task (``predict``'s
  column, in the target's units).

Its inputs:

- ``X``, float32 ``(n, n_numeric)``: the numeric columns, in their order in
  ``X`` (standardised inside the graph as in ``predict``); all columns for a
  model without categorical ones;
- for a model that embeds categorical columns, also ``X_categorical``, string
  ``(n, n_categorical)``: those columns in their order, each value as
  ``str(value)`` and a missing one as ``""``. ONNX's ``LabelEncoder`` maps
  them to the embedding rows ``predict`` uses, an unseen category to the
  unknown row.

``to_onnx(pipeline, X=sample)`` exports a fitted ``Pipeline`` whose last step
is a network: the steps before it through skl2onnx (``pip install
'sklearn-mtl[onnx]'``), their output cast to float32 and fed to the network's
graph, in one model whose inputs are skl2onnx's (one per column of a
DataFrame ``X``). A step that skl2onnx cannot convert is named in the error.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

__all__ = ["to_onnx"]

ML_OPSET = 3
"""The ``ai.onnx.ml`` opset of the encoding and pipeline graphs (its ``LabelEncoder``)."""


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


def to_onnx(estimator, path=None, *, X=None, opset_version=None):
    """Export a fitted network of sklearn_mtl, or a pipeline ending in one, to ONNX.

    Parameters
    ----------
    estimator : neural estimator of sklearn_mtl, or Pipeline
        Fitted. A ``Pipeline``'s last step must be a network without
        categorical columns (its steps before encode them).
    path : str, path-like or None, default=None
        Where to write the model; None writes nothing.
    X : array-like or DataFrame, default=None
        A few rows of the pipeline's input, from which skl2onnx reads the
        input columns and their types (needed when the pipeline takes a
        DataFrame); ignored for a network.
    opset_version : int or None, default=None
        The ONNX opset; None takes the exporter's default.

    Returns
    -------
    model : onnx.ModelProto
        The graph: inputs as the module's description says, outputs
        ``probabilities_task{t}`` or ``values_task{t}``, any number of rows.

    Raises
    ------
    TypeError
        If ``estimator`` is not a network of the package (or a pipeline
        ending in one), or a pipeline step cannot be converted (named).
    ValueError
        If a pipeline's network embeds categorical columns itself.
    """
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        model = _pipeline_model(estimator, X, opset_version)
    else:
        model = _network_model(estimator, opset_version)
    if path is not None:
        with open(path, "wb") as file:
            file.write(model.SerializeToString())
    return model


def _check_network(estimator, what: str) -> None:
    from .estimators._base import BaseMultiTaskNet

    if not isinstance(estimator, BaseMultiTaskNet):
        raise TypeError(
            f"to_onnx exports the networks of sklearn_mtl (and pipelines ending in one); {what} "
            f"is a {type(estimator).__name__} (a linear model is a matrix product: use its "
            "coef_ and intercept_)."
        )
    check_is_fitted(estimator)


def _network_model(estimator, opset_version):
    """The network's graph; with categorical columns, behind the graph that codes them."""
    _check_network(estimator, "the estimator")
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
    if not estimator.is_categorical_.any():
        return model
    return _behind(_encoding_model(state.inputs, _opset(model)), "encoded", model)


def _encoding_model(inputs, opset: int):
    """``X`` (numeric) and ``X_categorical`` (strings) -> the float32 matrix the network reads.

    Each categorical column goes through an ``ai.onnx.ml`` ``LabelEncoder``
    from ``str(category)`` to the category's code (as ``InputEncoder`` codes
    it: infrequent categories share theirs), ``""`` to the missing code and
    anything else to the unknown code; the codes follow the numeric columns.
    """
    from onnx import TensorProto, helper

    from ._training.inputs import FIRST_CODE, MISSING_CODE, UNKNOWN_CODE

    encoder = inputs.encoder
    n_categorical = len(inputs.cardinalities)
    graph_inputs, nodes, parts, initializers = [], [], [], []
    if inputs.n_numeric:
        graph_inputs.append(
            helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n_samples", inputs.n_numeric])
        )
        parts.append("X")
    graph_inputs.append(
        helper.make_tensor_value_info(
            "X_categorical", TensorProto.STRING, ["n_samples", n_categorical]
        )
    )
    for j, (keys, codes) in enumerate(_category_codes(encoder, FIRST_CODE)):
        if "" not in keys:
            keys, codes = [*keys, ""], [*codes, MISSING_CODE]
        index = f"column{j}_index"
        initializers.append(helper.make_tensor(index, TensorProto.INT64, [1], [j]))
        nodes += [
            helper.make_node("Gather", ["X_categorical", index], [f"column{j}"], axis=1),
            helper.make_node(
                "LabelEncoder",
                [f"column{j}"],
                [f"code{j}"],
                domain="ai.onnx.ml",
                keys_strings=keys,
                values_int64s=codes,
                default_int64=UNKNOWN_CODE,
            ),  # fmt: skip
            helper.make_node("Cast", [f"code{j}"], [f"code{j}_float"], to=TensorProto.FLOAT),
        ]
        parts.append(f"code{j}_float")
    nodes.append(helper.make_node("Concat", parts, ["encoded"], axis=1))
    width = inputs.n_numeric + n_categorical
    output = helper.make_tensor_value_info("encoded", TensorProto.FLOAT, ["n_samples", width])
    graph = helper.make_graph(nodes, "input_encoding", graph_inputs, [output], initializers)
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    return helper.make_model(graph, opset_imports=opsets)


def _category_codes(encoder, first_code: int):
    """Per categorical column: the categories as strings and their codes."""
    infrequent = getattr(encoder, "_infrequent_enabled", False)
    missing = getattr(encoder, "_missing_indices", {})
    for j, categories in enumerate(encoder.categories_):
        mapping = encoder._default_to_infrequent_mappings[j] if infrequent else None
        keys, codes = [], []
        for i, category in enumerate(categories):
            if missing.get(j) == i:
                continue  # the missing value's own category: "" codes it
            keys.append(str(category))
            codes.append(first_code + int(i if mapping is None else mapping[i]))
        yield keys, codes


def _pipeline_model(pipeline, X, opset_version):
    """The pipeline's steps through skl2onnx, cast to float32, then its network."""
    from sklearn.pipeline import Pipeline

    steps, network = Pipeline(pipeline.steps[:-1]), pipeline.steps[-1][1]
    _check_network(network, "the pipeline's last step")
    if network.is_categorical_.any():
        raise ValueError(
            "to_onnx exports a pipeline whose network reads numbers: its last step embeds "
            "categorical columns, which its steps pass through; one-hot or ordinal encode "
            "them in a step instead (or export the network alone)."
        )
    try:
        from skl2onnx import to_onnx as convert
    except ImportError:
        raise ImportError(
            "to_onnx converts a pipeline's scikit-learn steps with skl2onnx, which is not "
            "installed: pip install 'sklearn-mtl[onnx]' (or skl2onnx)."
        ) from None
    _check_convertible(steps)
    model = _network_model(network, opset_version)
    opset = _opset(model)
    sample = _sample(steps, X)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skl2onnx's notices about opsets and dtypes
            front = convert(steps, sample, target_opset={"": opset, "ai.onnx.ml": ML_OPSET})
    except (RuntimeError, NotImplementedError, TypeError, ValueError) as error:
        raise TypeError(
            f"to_onnx cannot export the pipeline's steps: skl2onnx says {error}"
        ) from error
    return _behind(_as_float32(front), front.graph.output[0].name, model)


def _sample(steps, X):
    """What skl2onnx reads the input types from: ``X``'s first rows, or a float32 row."""
    if X is not None:
        return X.iloc[:1] if hasattr(X, "iloc") else np.asarray(X)[:1]
    if getattr(steps, "feature_names_in_", None) is not None:
        raise ValueError(
            "to_onnx needs X= (a few rows of the pipeline's input) to export a pipeline "
            "fitted on a DataFrame: its columns and their types become the graph's inputs."
        )
    return np.zeros((1, steps.n_features_in_), dtype=np.float32)


def _check_convertible(steps) -> None:
    """Raise a ``TypeError`` naming the steps that skl2onnx has no converter for."""
    try:  # skl2onnx's table of converters, which it does not export
        from skl2onnx._parse import sklearn_operator_name_map
    except ImportError:
        return  # the conversion itself will say what it cannot convert

    from .persistence._pipeline import nested_estimators

    missing = sorted(
        {
            f"{where} ({type(estimator).__name__})"
            for name, step in steps.steps
            for where, estimator in nested_estimators(step, name)
            if type(estimator) not in sklearn_operator_name_map
            and type(estimator).__name__ != "Pipeline"
            and not where.endswith("_name_to_fitted_passthrough['remainder']")
        }
    )
    if missing:
        raise TypeError(
            f"to_onnx cannot export the pipeline's step(s) {missing[:5]}: skl2onnx has no "
            "converter for them. Export the network alone and run those steps in Python, "
            "or replace them."
        )


def _as_float32(model):
    """``model`` with its (first) output cast to float32, the network's input type."""
    from onnx import TensorProto, helper

    output = model.graph.output[0]
    if output.type.tensor_type.elem_type == TensorProto.FLOAT:
        return model
    cast = f"{output.name}_float32"
    model.graph.node.append(helper.make_node("Cast", [output.name], [cast], to=TensorProto.FLOAT))
    shape = [d.dim_param or d.dim_value or None for d in output.type.tensor_type.shape.dim]
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info(cast, TensorProto.FLOAT, shape))
    return model


def _behind(front, front_output: str, network):
    """One model: ``front``'s output fed to ``network``'s input ``X``."""
    from onnx import compose, helper

    network = compose.add_prefix(network, "network_", rename_outputs=False)
    version = max(front.ir_version, network.ir_version)
    front.ir_version = network.ir_version = version
    domains = {o.domain: o.version for o in [*network.opset_import, *front.opset_import]}
    for model in (front, network):
        del model.opset_import[:]
        model.opset_import.extend(helper.make_opsetid(d, v) for d, v in domains.items())
    return compose.merge_models(front, network, io_map=[(front_output, "network_X")])


def _opset(model) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


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

"""The private training engine of the neural estimators.

It takes what it needs as arguments and never imports an estimator:

- ``options``: the training options, their constraints, and one resolved set per fit;
- ``builder``: ``build_net(options, architecture, state)``, the net of a fit;
- ``schedule``: the learning-rate schedule;
- ``snapshot``: a net's training state, copied before an epoch and put back if it fails;
- ``net``: the skorch net of the package;
- ``callbacks``: the callbacks every fit runs (epoch seeds, per-task scores, interrupts);
- ``criterion``: the per-task losses and the weighting that combines them;
- ``compiling``: ``torch.compile`` of training steps, one copy of ``forward`` per structure;
- ``data``: datasets and batch loaders over encoded tensors;
- ``inputs``: ``InputEncoder``, which turns ``X`` into what the networks read;
- ``checkpoint``: checkpoints that a fit can resume from exactly, or refuses;
- ``fingerprint``: what identifies a fit's training data, checked on a resume;
- ``divergence``: stopping on a non-finite loss and warning on a poor fit;
- ``distributed``: data-parallel training under ``torchrun`` / ``accelerate``;
- ``branching``: growing an adaptive-sharing tree during training.
"""


def __getattr__(name):
    # Pickles of 0.1 name objects of the former module ``sklearn_mtl._training``
    # (``CosineLearningRate``), whose contents are in these three now.
    if name.startswith("__"):
        raise AttributeError(name)
    import importlib

    for module in ("options", "builder", "schedule"):
        module = importlib.import_module(f"{__name__}.{module}")
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

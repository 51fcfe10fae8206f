"""The private training engine of the neural estimators.

It takes what it needs as arguments and never imports an estimator:

- ``builder``: the training options and their constraints, and ``build_net``;
- ``net``: the skorch net of the package and the callbacks it always runs;
- ``data``: datasets and batch loaders over encoded tensors;
- ``inputs``: ``InputEncoder``, which turns ``X`` into what the networks read;
- ``checkpoint``: checkpoints that a fit can resume from exactly, or refuses;
- ``divergence``: stopping on a non-finite loss and warning on a poor fit;
- ``distributed``: data-parallel training under ``torchrun`` / ``accelerate``;
- ``branching``: growing an adaptive-sharing tree during training.
"""


def __getattr__(name):
    # Pickles of 0.1 name objects of the former module ``sklearn_mtl._training``,
    # which is ``builder`` now.
    if name.startswith("__"):
        raise AttributeError(name)
    from . import builder

    try:
        return getattr(builder, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None

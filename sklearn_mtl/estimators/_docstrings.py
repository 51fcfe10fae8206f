"""Parameter and attribute text shared by the estimators, written once.

Every estimator's docstring is literal in its class, with ``%(name)s``
placeholders where an entry of :data:`DOCS` (or of a module's own dict built
on it) goes; :func:`fill_doc` substitutes them (a literal percent sign is
``%%``).
"""

_TRAINING = """\
    activation : {"relu", "gelu", "silu", "elu", "selu", "leaky_relu", "tanh"}, \
default="relu"
        Activation after every hidden layer.

    dropout : float, default=0.0
        Dropout probability after every hidden activation, in [0, 1).

    max_epochs : int, default=50
        Number of passes over the training data (fewer with early stopping).

    batch_size : int, default=256
        Rows per minibatch.

    lr : float, default=1e-3
        Learning rate of the optimizer.

    optimizer : {"adam", "adamw", "sgd", "rmsprop", "adagrad"} or \
torch.optim.Optimizer subclass, default="adam"
        The optimizer, by name or as a class.

    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer as ``weight_decay``.

    lr_schedule : {"constant", "cosine"}, default="constant"
        ``"cosine"`` lowers the learning rate along a half-cosine from ``lr``
        at the first epoch to ``lr / 100`` at epoch ``max_epochs`` (a skorch
        callback sets each epoch's rate); epochs beyond it
        (``warm_start``, ``partial_fit`` after ``fit``) start a new cycle.
        ``partial_fit`` from scratch keeps ``lr``, and a skorch
        ``LRScheduler`` in ``callbacks`` replaces the schedule. The rate of
        each epoch is in ``net_.history[:, "event_lr"]``.

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training rows (at random, not
        stratified, so multi-output ``y`` works) and stop when the validation
        loss has not improved for ``n_iter_no_change`` epochs; the weights of
        the best epoch are kept (skorch's ``EarlyStopping`` with
        ``load_best=True``). ``"auto"`` stops early when ``fit`` gets at least
        1,000 rows (so the validation split has 100 or more); below that it
        trains ``max_epochs`` epochs on every row.

    validation_fraction : float, default=0.1
        Fraction of rows held out when early stopping is on.

    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.

    early_stopping_task : int or None, default=None
        What early stopping watches: ``None``, the validation loss summed
        over the tasks; an index ``t``, task ``t``'s validation loss alone
        (its mean over the validation rows that have its label), for a fit
        that serves that task, e.g. one with few labels of it learning from
        the others. The split keeps labelled rows of the scarcest task in
        proportion. Ignored without early stopping.

    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (e.g. ``LRScheduler``, ``Checkpoint``). They are
        copied at ``fit``, so the list given here is never modified.

    device : str, default="cpu"
        Torch device to train and predict on, e.g. ``"cuda"``. The training
        data is moved to it once per ``fit``.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. ``fit`` forks torch's random state, so the caller's global
        generator is left as it was.

    verbose : int, default=0
        0 prints nothing; 1 prints a table line per epoch; 2 also shows a
        progress bar per epoch.

    categorical_features : "from_dtype", array-like of str, int or bool, or None, \
default="from_dtype"
        Which columns of ``X`` are categorical, as in
        ``HistGradientBoostingClassifier``: ``"from_dtype"`` takes the
        DataFrame columns of ``category``, ``object`` or string dtype; or give
        column names, indices or a boolean mask; ``None`` treats every column
        as numeric. Categorical columns are coded inside ``fit`` (on the
        training rows only) and feed one embedding table each; numeric columns
        are standardised and go through a learnt linear projection; both are
        concatenated before the experts (or bottom). A missing categorical
        value is a category of its own; a category unseen in ``fit`` maps to a
        reserved code. Numeric columns must not hold NaN unless
        ``numeric_missing="learn"``.

    embedding_dim : "auto" or int, default="auto"
        Width of each categorical column's embedding: ``"auto"`` uses the rule
        of thumb ``min(50, round(1.6 * n_categories ** 0.56))``.

    min_frequency : int, float or None, default=None
        Categories seen in fewer training rows than this (a count, or a
        fraction of rows if a float in (0, 1)) share one embedding, as
        ``OrdinalEncoder`` groups infrequent categories; ``None`` keeps every
        category.

    numeric_embedding : {"linear", "piecewise_linear", "periodic", "auto"}, \
default="linear"
        How each numeric column enters the network (Gorishniy et al.,
        "On Embeddings for Numerical Features in Tabular Deep Learning",
        NeurIPS 2022; :mod:`sklearn_mtl.nn.numeric`): ``"linear"``, its
        standardised value; ``"piecewise_linear"``, its piecewise-linear
        encoding over ``numeric_embedding_size`` quantile bins of the
        training rows (learnt in ``fit``, and by ``partial_fit`` at its first
        call only; later batches reuse them); ``"periodic"``, learnt
        sine/cosine features of ``numeric_embedding_size`` frequencies, then a
        linear layer and ReLU per column. ``"auto"``, with early stopping,
        trains a ``"linear"`` and a ``"piecewise_linear"`` network from the
        same seed on the same split and keeps the one of lower best
        validation loss (about twice the fit time); without early stopping,
        in ``partial_fit`` and for a sparse ``X`` it is ``"linear"``.
        ``numeric_embedding_`` says which was kept. ``"piecewise_linear"``
        needs a dense ``X``.

    numeric_embedding_size : int, default=32
        Quantile bins per column (``"piecewise_linear"``), or frequencies and
        embedding width per column (``"periodic"``); at most 256. Each numeric
        column enters the network as this many inputs.

    periodic_sigma : float, default=10.0
        ``"periodic"``: the standard deviation of the initial frequencies
        (the inputs are standardised), the embedding's main hyperparameter in
        Gorishniy et al., and data-dependent: on Adult 10 was best of 0.1 to 30
        (``sklearn_mtl.nn.numeric.PERIODIC_SIGMA``), but on a smooth synthetic
        pair (``make_task_pair``, 300 training rows) it overfits: held-out R²
        0.04 at 10, 0.70 at 3, 0.91 at 1, 0.94 at 0.3, against 0.98 for
        ``"linear"``. Lower it for smooth targets, or search it.

    numeric_missing : {"error", "learn"}, default="error"
        ``"error"`` refuses NaN in a numeric column; ``"learn"`` reads it as a
        value of its own, as boosted trees do: a learnt vector replaces the
        column's embedding (with ``"linear"``, the value reads as the column
        mean and a missing indicator per column joins the input). Statistics
        and bins leave NaN out. Infinity is always refused.

<loss_weighting>

    task_weights : array-like of shape (n_tasks,), default=None
        The weights of ``loss_weighting=<takes_task_weights>``.

    loss_normalization : {"batch", "epoch"}, default="batch"
        How each task's loss is averaged when labels are missing (or rows
        weighted): ``"batch"``, over the labelled rows of each batch, so a
        batch's two labels of a scarce task weigh as much as another task's
        full batch; ``"epoch"``, its weighted sum over the batch divided by
        the labels a batch has on average over the training rows, so every
        labelled row counts the same, whichever batch it falls in. Identical
        when every label is present with unit weight.

    accelerator : accelerate.Accelerator or None, default=None
        Data-parallel training (DistributedDataParallel: gloo on CPU, NCCL on
        GPU) when the script runs under ``torchrun --nproc-per-node N`` or
        ``accelerate launch``; through skorch's ``AccelerateMixin``. Every
        process calls ``fit`` on the same data and trains on its share of
        each batch: ``batch_size`` is the global batch, so the fitted
        parameters equal a one-process fit's up to floating-point rounding.
        Only the main process prints. The training device is the
        accelerator's (``device`` must name the same kind: "cpu" or
        "cuda"); ``loss_weighting`` must be one of <data_parallel>; an int
        ``random_state`` is advised (otherwise process 0's seed is sent to
        the others). ``None`` trains in this process alone.

    warm_start : bool, default=False
        When True, ``fit`` on a fitted estimator trains ``max_epochs`` more
        epochs from the fitted state (its input and label encodings kept)
        instead of starting again; ``partial_fit`` always continues.

    compile : bool or {"default", "reduce-overhead", "max-autotune", \
"max-autotune-no-cudagraphs"}, default=False
        Run the training steps through ``torch.compile`` (TorchInductor):
        ``True`` is its ``"default"`` mode; a string is its ``mode``
        (``"reduce-overhead"`` adds CUDA graphs on a GPU). Only the training
        forward and backward run compiled: validation and prediction run the
        eager network, which holds the same weights, so the fitted model
        predicts, pickles, saves and loads as it would without compiling, and
        nothing compiled is pickled. The first fit of a network compiles for
        the shape of a full batch (3.6 to 28 s for the benchmark's networks on
        a 2-core CPU) and, when the rows are not a multiple of ``batch_size``,
        once more, with a dynamic batch size, for the shorter last batch: at
        most two compilations per fit. A later fit of the same network in the
        same process (``partial_fit``, ``warm_start``, a refit of a clone)
        reuses the compiled code (a last batch of a new size may compile
        once). The results equal eager training's up to floating-point
        rounding, except that dropout draws other random numbers. On a CPU it
        does not pay (1.4-1.7x slower on the benchmark's expert networks); it
        is meant for long fits on a GPU (the README's speed section). Not with
        a gradient-based ``loss_weighting`` or an ``accelerator``."""

_FUNNEL = """\
    funnel : tuple (upper_task, lower_task) or None, default=None
        A funnel between two binary tasks (e.g. ``(click, conversion)``) or two
        regression tasks: adds ``funnel_penalty * mean(relu(p_lower -
        p_upper))`` to the training loss, on every row, so that the lower
        task's predicted probability (or value, in units of its target's
        standard deviation) does not exceed the upper one's. ``None`` adds
        nothing.

    funnel_penalty : float, default=1.0
        Strength of the funnel penalty."""

_FITTED_COMMON = """\
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch record of losses.

    n_tasks_ : int
        Number of tasks (columns of ``y``).

    n_iter_ : int
        Number of epochs run.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    is_categorical_ : ndarray of bool, shape (n_features_in_,)
        The columns embedded as categorical features.

    numeric_embedding_ : str
        The numeric embedding of the fitted network: ``numeric_embedding``,
        or what ``"auto"`` chose.

    task_weights_ : ndarray of shape (n_tasks_,)
        The task-loss weights used in the last epoch (ones for a method that
        leaves the losses unweighted); ``net_.history`` holds them per epoch."""

_CLASSIFIER_ATTRIBUTES = (
    """\
    classes_ : list of ndarray of shape (n_classes_t,), or ndarray
        The labels of each task; one array when ``y`` was 1-D.

"""
    + _FITTED_COMMON
)

_REGRESSOR_ATTRIBUTES = (
    """\
    target_mean_ : ndarray of shape (n_tasks_,)
        Mean of each task's observed targets; the net learns standardised
        targets and predictions are mapped back.

    target_scale_ : ndarray of shape (n_tasks_,)
        Standard deviation of each task's observed targets (1 where constant).

"""
    + _FITTED_COMMON
)

_FIT = """\
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs (a DataFrame is accepted; its column names are
            recorded in ``feature_names_in_``; a sparse matrix is read as
            numbers).
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            One column per task; NaN (or None) marks a missing label, which the
            loss ignores. A 1-D ``y`` is a single task. In a search over a
            ``y`` with NaN, pass a splitter, ``cv=KFold(5)``: scikit-learn's
            ``cv=5`` asks ``type_of_target``, which refuses NaN ("Input y
            contains NaN") before this estimator is called.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), \
default=None
            Per-row (or per-row, per-task) weights of the loss."""

_PARTIAL_FIT = """\
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of inputs, with the columns of the first call.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            The batch's labels; NaN (or None) marks a missing one.
        classes : list of n_tasks array-likes, or array-like, default=None
            Every label of each task (one array for a 1-D ``y``). Required at
            the first call; later calls may repeat it unchanged or omit it.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), \
default=None
            Per-row (or per-row, per-task) weights of the loss."""

_ENSEMBLE = """\
    n_ensemble : int or "auto", default="auto"
        Members of an efficient ensemble (BatchEnsemble, as TabM trains it):
        every layer of the experts (or bottom) and towers is ``n_ensemble``
        networks sharing one weight matrix, each with its own scalings and
        bias, and its own output head; the gates are shared. Training
        minimises the mean of the members' losses; ``predict_proba`` is the
        mean of their probabilities (of their predictions for regression), and
        so is everything computed from the outputs (validation loss, scores,
        ONNX). The experts and towers compute ``n_ensemble`` times as much,
        for a fraction more parameters (the members' scalings, biases and
        heads: +15 % for the default MMoE on 100 inputs at 4 members). 1 is
        one network. ``"auto"`` trains 4 members when ``fit`` gets at least
        5,000 rows with a label of some task, one network below and in
        ``partial_fit``; ``n_ensemble_`` says which. On the defaults
        benchmark (37 tasks) this rule's mean gap to per-task linear models
        is +0.102 against +0.097 for one network, level with per-task
        boosting or above on 26 tasks against 25, for fits 1.5 to 6.5 times
        as long on the sets it applies to (more epochs before the validation
        loss stops falling)."""

TRAINING_TEMPLATE = _TRAINING
"""The network estimators' training parameters, with ``<loss_weighting>``,
``<takes_task_weights>`` and ``<data_parallel>`` where the weighting registry's
text goes (``estimators._network_docs``: this module imports no torch)."""

DOCS = {
    "fit_parameters": _FIT,
    "partial_fit_parameters": _PARTIAL_FIT,
    "funnel_parameters": _FUNNEL,
    "ensemble_parameter": _ENSEMBLE,
    "classifier_attributes": _CLASSIFIER_ATTRIBUTES,
    "regressor_attributes": _REGRESSOR_ATTRIBUTES,
}


def fill_doc(docs):
    """A class decorator that substitutes ``docs`` for ``%(name)s`` in the docstring.

    Placeholders sit at the docstring's indentation; each entry of ``docs`` is
    indented on every line, so its first line's indentation is dropped.
    """
    docs = {name: text.lstrip() for name, text in docs.items()}

    def decorate(cls):
        cls.__doc__ = cls.__doc__ % docs
        return cls

    return decorate

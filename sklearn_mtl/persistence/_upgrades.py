"""Files of earlier releases, upgraded to what this release reads.

Each upgrade takes the parameters as an earlier release wrote them and
returns them as this release writes them; a file that fits none is checked
as it stands (and refused where it is wrong).
"""

from __future__ import annotations

__all__ = ["FLAT_ARCHITECTURE_PARAMETERS", "flat_architecture_parameters"]

FLAT_ARCHITECTURE_PARAMETERS = {
    "n_experts", "expert_units", "gate_temperature", "bottom_units", "n_task_experts",
    "n_shared_experts", "n_levels", "column_units", "stitch_init", "tower_units",
}  # fmt: skip
"""The architecture parameters that ``MultiTaskNet`` files of version 0.1.0 hold flat."""


def flat_architecture_parameters(params: dict) -> dict:
    """A ``MultiTaskNet`` file written before architectures were parameter objects.

    Such a file names the architecture (``"mmoe"``) and holds the parameters
    of every architecture flat (``n_experts``, ``bottom_units``, ...); the
    named architecture's are moved into its parameter object, the others
    were ignored and are dropped.
    """
    from ..architectures import ARCHITECTURES

    flat = set(params) & FLAT_ARCHITECTURE_PARAMETERS
    if not flat:
        return params
    name = params.get("architecture")
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise ValueError(f"its architecture must be one of {sorted(ARCHITECTURES)}")
    architecture = ARCHITECTURES[name]
    upgraded = {key: value for key, value in params.items() if key not in flat}
    upgraded["architecture"] = {
        "__architecture__": architecture.__name__,
        "params": {key: params[key] for key in architecture._get_param_names() if key in params},
    }
    return upgraded

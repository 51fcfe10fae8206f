"""Reading and rewriting the members of a model file, to craft the files that load refuses."""

import json
import zipfile

__all__ = ["members", "rewrite_metadata", "write_members"]


def members(path) -> dict[str, bytes]:
    """Every member of the archive at ``path``, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path, contents, compression=zipfile.ZIP_DEFLATED):
    """Write an archive at ``path`` of ``contents``, member name: bytes."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def rewrite_metadata(path, change):
    """Apply ``change`` to the decoded ``metadata.json`` of the file at ``path``, in place."""
    contents = members(path)
    metadata = json.loads(contents["metadata.json"])
    change(metadata)
    contents["metadata.json"] = json.dumps(metadata)
    write_members(path, contents)

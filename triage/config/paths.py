"""Where relative paths in the configuration point.

Relative paths are relative to the config file's folder; those of what the daemon writes
(`WritablePath`: store, outbox, drop-folder folders, digests, reports) are relative to the
state directory instead: `[paths] state_dir`, else the one systemd gives the service
($STATE_DIRECTORY), else that same folder. Installed as a service, everything triage writes
thus lands where the unit lets it write, never next to a config in /etc.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)


class _Writable:
    """Marks a path the daemon writes: relative, it is under the state directory."""


WRITABLE = _Writable()
WritablePath = Annotated[Path, WRITABLE]


def writable_paths(settings: BaseModel) -> list[tuple[str, Path]]:
    """("[section] key", path) of every path the daemon writes."""
    found = []
    for section in type(settings).model_fields:
        value = getattr(settings, section)
        if not isinstance(value, BaseModel):
            continue
        for key, field in type(value).model_fields.items():
            if WRITABLE in field.metadata:
                found.append((f"[{section}] {key}", getattr(value, key)))
    return found


def state_dir(chosen: Path | None, environ: Mapping[str, str], base: Path) -> Path:
    """[paths] state_dir (`chosen`), else the state directory systemd gives a service
    (StateDirectory= sets $STATE_DIRECTORY; the first one when there are several), else the
    config file's folder (`base`)."""
    if chosen is not None:
        chosen = chosen.expanduser()
        return chosen if chosen.is_absolute() else base / chosen
    given = environ.get("STATE_DIRECTORY", "").split(":")[0]
    if given and Path(given).is_absolute():
        return Path(given)
    return base


def resolve_paths(settings: Model, base: Path, state: Path) -> Model:
    """Relative paths are relative to the config file's folder; those the daemon writes
    (WritablePath) to the state directory, which is that same folder unless told otherwise."""

    def absolute(path: Path, under: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else under / path

    def resolve(value: Any, writable: bool = False) -> Any:
        if isinstance(value, Path):
            return absolute(value, state if writable else base)
        if isinstance(value, BaseModel):
            fields = type(value).model_fields
            update = {
                key: resolve(item, key in fields and WRITABLE in fields[key].metadata)
                for key, item in value.__dict__.items()
            }
            return value.model_copy(update=update)
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        if isinstance(value, list):  # [knowledge] dirs: each folder as a lone path would be
            return [resolve(item, writable) for item in value]
        return value

    resolved: Model = resolve(settings)
    return resolved

"""Typer's value coercion, without importing pydantic for the values that need none.

Typer 0.29 coerces every option value through a pydantic ``TypeAdapter``, and so imports pydantic
(40-60 ms, more than the gradient of a 100 MB file takes to compute) on every run, even when each
value is a string for a ``str`` option, a path, or an option's own default. :func:`lighten` gives a
command's parameters a coercion that passes such values through as Typer would return them, and
hands every other value to Typer's own coercion, built on first use: an invalid value gets
Typer's message, word for word. Typer's private parameter classes are used only when they look as
expected; otherwise Typer is left as it is.
"""

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from typer import _coercion, _param_types
from typer._click import Command, Context


@dataclass(frozen=True)
class _Light(_coercion.RuntimeParam):
    """Values that are already what Typer would return pass; the rest go to Typer's coercion."""

    descriptor: Any = None

    def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
        kind, info = self.annotation, self.parameter_info
        if info.parser is not None:
            # slopecli's own parser (options.number): it takes the typed text; a default is its value.
            return info.parser(value) if isinstance(value, str) else value
        if kind is str and isinstance(value, str):
            return value
        if isinstance(kind, type) and issubclass(kind, Enum):
            if isinstance(value, kind):
                return value  # a default
            if isinstance(value, str) and value in kind._value2member_map_:
                return kind(value)  # exactly one of the choices, as typed
        if kind in (int, float) and type(value) is kind and _in_range(value, info):
            return value
        if isinstance(kind, type) and issubclass(kind, Path) and isinstance(value, str) and value:
            # The checks Typer runs on a path (exists, file_okay, …), on an already-made Path.
            return _param_types.coerce_cli_path(Path(value), info, path_type=kind, param=param, ctx=ctx)
        listed = getattr(kind, "__origin__", None) is list and kind.__args__ == (str,)
        if listed and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return list(value)
        return _coercion.build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)


def _in_range(value: float, info: Any) -> bool:
    low, high = info.min, info.max
    return (low is None or value >= low) and (high is None or value <= high)


def lighten(command: Command, ctx: Context) -> None:
    """Give ``command``'s parameters (its help option too) the light coercion; each keeps
    Typer's for the values that need it."""
    for param in command.get_params(ctx):
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue  # not Typer's parameter as 0.29 makes it, or already coerced once
        if descriptor.file_annotation is not None:
            continue
        param._runtime_param = _Light(  # type: ignore[attr-defined]
            parameter_info=descriptor.parameter_info, annotation=descriptor.annotation, descriptor=descriptor
        )

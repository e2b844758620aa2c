"""Build nested dataclasses from plain dicts (parsed YAML/TOML), refusing unknown keys and wrong types.

Every error names the dotted key (``optim.lr``) so a typo in a config file is one clear message, not a traceback.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from genvc.errors import InputError


def from_dict(cls: type, data: Any, where: str = "") -> Any:
    """Instantiate dataclass `cls` from `data`; missing keys take the field defaults."""
    if not isinstance(data, dict):
        raise InputError(f"{where or 'config'}: expected a table/mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise InputError(f"unknown config key {_join(where, str(key))!r} (known keys here: {known})")
    kwargs = {key: _convert(hints[key], value, _join(where, key)) for key, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field without default is missing
        raise InputError(f"{where or 'config'}: {exc}") from None


def to_dict(obj: Any) -> Any:
    """Plain (JSON/YAML-safe) dict of a dataclass; tuples become lists."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return value if isinstance(value, tp) else from_dict(tp, value, where)  # built already: keep it
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(option, value, where)
            except InputError as exc:
                errors.append(str(exc))
        raise InputError(errors[-1] if len(errors) == 1 else f"{where}: {value!r} matches none of {_name(tp)}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where}: expected a list ({_name(tp)}), got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise InputError(f"{where}: expected {len(args)} values ({_name(tp)}), got {len(value)}")
            return tuple(_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        converted = [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(converted) if origin is tuple else converted
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise InputError(f"{where}: expected a table/mapping, got {value!r}")
        return dict(value)
    if tp is Any:
        return value
    if typing.get_origin(tp) is typing.Literal:
        if value not in args:
            raise InputError(f"{where}: must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    return _scalar(tp, value, where)


def _scalar(tp: type, value: Any, where: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        # PyYAML reads "1e-4" (no dot) as a string: accept numeric strings for float fields.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
    raise InputError(f"{where}: expected {_name(tp)}, got {value!r}")


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")

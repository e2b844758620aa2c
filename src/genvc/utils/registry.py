"""One lazy registry: names (and, where a stream stores them, one-byte ids) declared once, each naming the
"module:attribute" that builds it, imported only when that entry is used, so `genvc info` and the fuzzer never load
torch or the codecs they do not touch."""

from __future__ import annotations

import importlib
from typing import Any

from genvc.errors import InputError


class LazyRegistry:
    def __init__(self, what: str, id_attribute: str | None = None) -> None:
        self.what = what  # "method", "intra codec": for messages
        self.id_attribute = id_attribute  # where `build` puts an entry's id on what it builds ("method_id")
        self._entries: dict[str, tuple[int | None, str]] = {}

    def add(self, name: str, target: str, id: int | None = None) -> None:
        """Register `target` ("module:attribute") under `name` and, if given, stream id `id` (unique)."""
        if id is not None and any(i == id for n, (i, _) in self._entries.items() if n != name):
            raise ValueError(f"{self.what} id {id} is taken")
        self._entries[name] = (id, target)

    def remove(self, name: str) -> None:
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return list(self._entries)

    def id_of(self, name: str) -> int | None:
        return self._entries[name][0]

    def name_for_id(self, id: int) -> str | None:
        return next((n for n, (i, _) in self._entries.items() if i == id), None)

    def module_of(self, name: str) -> str:
        return self._entries[name][1].split(":")[0]

    def load(self, name: str) -> Any:
        """The registered attribute (a class, a factory); InputError naming the choices for an unknown name."""
        if name not in self._entries:
            raise InputError(f"unknown {self.what} {name!r}; choose one of: {', '.join(self._entries)}")
        module, attribute = self._entries[name][1].split(":")
        return getattr(importlib.import_module(module), attribute)

    def build(self, name: str, **kwargs) -> Any:
        """`load(name)(**kwargs)` with the entry's id set on it (as `id_attribute`): the registry is where ids are
        declared. A class that still declares an id of its own must agree."""
        obj = self.load(name)(**kwargs)
        id = self.id_of(name)
        if self.id_attribute and id is not None:
            declared = getattr(obj, self.id_attribute, None)
            if declared is not None and declared != id:
                raise ValueError(f"{self.what} {name!r} declares id {declared}, registered as {id}")
            setattr(obj, self.id_attribute, id)
        return obj

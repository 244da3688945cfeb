"""Canonical spelling of command and function names (resolved through the catalog).

DQL resolves command and function names case-insensitively; the tree stores the
catalog spelling so that ``FETCH`` and ``fetch`` parse to equal trees. Names the
catalog does not know are kept as written.
"""

from __future__ import annotations

import functools

from dqlbuild.catalog import name_index


@functools.cache
def _command_names() -> dict[str, str]:
    return name_index()[0]


@functools.cache
def _function_names() -> dict[str, str]:
    # Aliases (``first`` for ``takeFirst``) keep their own name: a different spelling of
    # the same function is still what the user wrote, only its case is normalised.
    return name_index()[1]


def command_name(name: str) -> str:
    return _command_names().get(name.lower(), name)


def function_name(name: str) -> str:
    return _function_names().get(name.lower(), name)


def is_known_command(name: str) -> bool:
    return name.lower() in _command_names()

"""The hooks a microseg plugin can implement.

Every hook receives a ``register`` callback; call it once per thing the plugin provides.
Built-in methods and recognizers are registered through these same hooks.

.. code-block:: python

    import microseg

    @microseg.hookimpl
    def register_methods(register):
        register(MyMethod)
"""
from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("microseg")
hookimpl = pluggy.HookimplMarker("microseg")


@hookspec
def register_methods(register: Callable[[type], None]) -> None:
    """Register segmentation methods: ``register(cls)`` for each
    :class:`microseg.SegmentationMethod` subclass. ``cls.name`` is how configs refer to it.

    :param register: callback taking a method class.
    """


@hookspec
def register_recognizers(register: Callable[[object], None]) -> None:
    """Register PII recognizers used by ``microseg scan`` and the release gate:
    ``register(recognizer)`` for each presidio ``EntityRecognizer`` instance (value-level) or
    :class:`microseg.privacy.recognizers.ColumnNameRecognizer` instance (column-name semantics).

    :param register: callback taking a recognizer instance.
    """

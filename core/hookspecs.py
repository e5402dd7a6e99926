"""The hooks a microseg plugin can implement.

Every hook receives a ``register`` callback; call it once per thing the plugin provides.
Built-in methods, recognizers, export formats and report renderers are registered through these
same hooks.

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


@hookspec
def register_export_formats(register: Callable[[object], None]) -> None:
    """Register file formats for ``microseg export``: ``register(fmt)`` for each
    :class:`microseg.outputs.ExportFormat` (a name, the file suffixes it claims, and a
    ``write(table, path)`` function). ``fmt.name`` is what ``--format`` takes.

    :param register: callback taking an export format.
    """


@hookspec
def register_report_renderers(register: Callable[[object], None]) -> None:
    """Register run-report renderers for ``microseg report``: ``register(renderer)`` for each
    :class:`microseg.outputs.ReportRenderer` (a name, a file suffix, and a ``render(document)``
    function returning the file's text or bytes). ``renderer.name`` is what ``--format`` takes.

    :param register: callback taking a report renderer.
    """

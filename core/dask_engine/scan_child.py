"""``python -m microseg.dask_engine.scan_child OUT``: scan the frame pickled on stdin, write the
findings (never a value; on failure only the exception's type) to the file OUT."""
from __future__ import annotations

import pickle
import sys
from types import SimpleNamespace


def main() -> None:
    out = sys.argv[1]
    from microseg.errors import PluginError
    try:
        frame, blob = pickle.load(sys.stdin.buffer)
        from microseg.privacy.scan import scan_frame
        findings = scan_frame(frame, registry=SimpleNamespace(recognizers=pickle.loads(blob)))
        result: dict = {"findings": [f.as_dict() for f in findings]}
    except PluginError as exc:     # its message names the plugin and recognizer, never a value
        result = {"plugin_error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - report the type only: messages may hold values
        result = {"error": type(exc).__name__}
    with open(out, "wb") as fh:
        pickle.dump(result, fh)


if __name__ == "__main__":
    main()

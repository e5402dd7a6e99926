"""Run one command as a child process; print its wall time and peak RSS as JSON (last line)."""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    t0 = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sys.stderr.write(proc.stderr[-4000:])
    sys.stdout.write(proc.stdout)
    print(json.dumps({"returncode": proc.returncode, "wall_s": round(wall, 2), "peak_rss_mb": round(peak_mb)}))


if __name__ == "__main__":
    main()

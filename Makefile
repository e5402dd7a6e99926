# The README's two commands: `make demo` and `make test`. Each sets itself up from a bare Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo bytecode test test-fast bench-quality bench-e2e clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("microseg needs Python 3.11+") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77"
	$(BIN)/python -m pip install --quiet -e ".[test,postgres,dask]"
	$(BIN)/python -m pip install --quiet -e ".[fuzz]" || echo "atheris does not install here: the atheris fuzz session will skip (hypothesis fuzzing still runs)"
	$(MAKE) --no-print-directory bytecode
	touch $(STAMP)

# microseg's compiled bytecode, as a regular install writes it (the editable install does not, and
# where PYTHONDONTWRITEBYTECODE is set every command would compile the package again: ~0.1 s a run)
bytecode:
	$(BIN)/python -m compileall -q core plugins privacy

demo: $(STAMP) bytecode
	$(BIN)/microseg demo --out demo

# two worker processes: the suite is mostly single-threaded runs of microseg (about half the wall time on 2 cores)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --durations=20

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not realdata and not dask"

bench-quality: $(STAMP)
	$(BIN)/python bench/quality.py

bench-e2e: $(STAMP)
	$(BIN)/python bench/e2e.py --n 100000

clean:
	rm -rf $(VENV) build *.egg-info demo .pytest_cache

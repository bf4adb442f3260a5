# The two README commands: `make report` (main job, offline snapshot) and `make test`.
# Each builds .venv from scratch on a machine with only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv report test lab bench clean strip

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

## main job: the default December 2025 suite, offline, on the bundled snapshot
report: $(STAMP)
	POTASH_IMPACT_OFFLINE=1 MPLBACKEND=Agg $(BIN)/potash-impact report --offline --jobs 3

## full test suite (never touches the network)
test: $(STAMP)
	POTASH_IMPACT_OFFLINE=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q

## JupyterLab on notebooks/ (make lab PORT=9999; as root it adds --allow-root)
PORT ?= 8888
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_eventstudy.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_crosssection.py

## strip notebook outputs before committing
strip: $(STAMP)
	$(BIN)/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache

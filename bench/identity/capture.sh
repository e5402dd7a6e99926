#!/usr/bin/env bash
# Capture every output of one `microseg run` for an identity check.
#   bench/identity/capture.sh REPO N OUTDIR
# REPO: a checkout with .venv (e.g. /work/main); N: e2e size (/tmp/microseg-e2e/nN); OUTDIR: fresh folder.
set -euo pipefail
repo=$1; n=$2; out=$3
export MICROSEG_BENCH_KEY=bench-key-0123456789abcdef
rm -rf "$out"; mkdir -p "$out"
cfg=/tmp/microseg-e2e/n$n/microseg-pandas.toml
if [ ! -f "$cfg" ]; then
  echo "capture.sh: no e2e data at /tmp/microseg-e2e/n$n: make it first with .venv/bin/python bench/e2e.py --n $n --rounds 1" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
ms="$repo/.venv/bin/python $here/fixed_clock.py"
cd "$out"
COLUMNS=120 $ms run "$cfg" --db "$out/ms.db" > stdout.txt 2> stderr.txt
$ms audit --verify --config "$cfg" --db "$out/ms.db" > audit.txt 2>&1 || echo "audit rc=$?" >> audit.txt
cp "$out/ms.db" "$out/ms2.db"
COLUMNS=120 $ms run "$cfg" --db "$out/ms2.db" --json > run2.json 2> stderr2.txt
for db in ms ms2; do
  for t in $(sqlite3 "$out/$db.db" "select name from sqlite_master where type='table' order by name"); do
    echo "== $t"; sqlite3 "$out/$db.db" ".mode quote" "select * from \"$t\"" | sort
  done > "$db.dump"
  sqlite3 "$out/$db.db" .schema > "$db.schema"
done
ls "$out"

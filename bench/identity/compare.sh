#!/usr/bin/env bash
# Compare two folders written by capture.sh: every file byte for byte after replacing the
# folder's own path; run2.json without its timings (wall-clock).
a=$1; b=$2; rc=0
for f in $(cd "$a" && ls | grep -v '\.db$'); do
  if [ "$f" = run2.json ]; then
    cmp -s <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d.pop('timings'); print(json.dumps(d, sort_keys=True).replace(sys.argv[2], 'OUT'))" "$a/$f" "$a") \
           <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d.pop('timings'); print(json.dumps(d, sort_keys=True).replace(sys.argv[2], 'OUT'))" "$b/$f" "$b") \
      && echo "same $f" || { echo "DIFF $f"; rc=1; }
  else
    cmp -s <(sed "s#$a#OUT#g" "$a/$f") <(sed "s#$b#OUT#g" "$b/$f") && echo "same $f" || { echo "DIFF $f"; rc=1; }
  fi
done
exit $rc

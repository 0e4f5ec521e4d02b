#!/usr/bin/env bash
# Adds up the `tally: NAME N` lines the tests print (tests/support/tally.h, scripts/fuzz.sh) in a
# ctest log, which holds every test's output, and prints the totals as one block. Counts that
# must be 0 and are not are marked FAILED, and then the script exits 1.
#
#   scripts/test-summary.sh [LOG]    default: build/Testing/Temporary/LastTest.log (the last run);
#                                    the output of `ctest -V` (lines `NUMBER: tally: ...`) works too
set -euo pipefail
log="${1:-$(dirname "$0")/../build/Testing/Temporary/LastTest.log}"
if [[ ! -r "$log" ]]; then
  echo "test-summary: no ctest log at $log" >&2
  exit 2
fi

awk -v log_name="$(realpath -m "$log")" '
  BEGIN {
    count = split("faults injected|requests acknowledged|events lost|duplicates|" \
                  "inputs fuzzed|crashes|attacks tried|attacks that got in", names, "|")
    for (i = 1; i <= count; ++i) known[names[i]] = 1
    split("events lost|duplicates|crashes|attacks that got in", zero, "|")
    for (i in zero) must_be_zero[zero[i]] = 1
  }
  /^([0-9]+: )?tally: .+ -?[0-9]+$/ {
    name = $0
    sub(/^([0-9]+: )?tally: /, "", name)
    sub(/ -?[0-9]+$/, "", name)
    total[name] += $NF
    if (!(name in known)) {
      known[name] = 1
      names[++count] = name
    }
  }
  END {
    print "== test summary (" log_name ") =="
    failed = ""
    for (i = 1; i <= count; ++i) {
      name = names[i]
      if (!(name in total)) {
        printf "  %-22s %12s   (not in this run)\n", name, "-"
        continue
      }
      mark = ""
      if (name in must_be_zero) {
        if (total[name] != 0) {
          mark = "   <-- FAILED: must be 0"
          failed = failed (failed == "" ? "" : ", ") name
        } else {
          mark = "   (must be 0)"
        }
      }
      printf "  %-22s %12.0f%s\n", name, total[name], mark
    }
    if (failed != "") {
      print "== FAILED: " failed " not 0 =="
      exit 1
    }
    print "== every count that must be 0 is 0 =="
  }
' "$log"

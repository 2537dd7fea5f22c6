#!/bin/sh
# run-asan.sh DIR - the unit and end-to-end tests built with ASan+UBSan
# (`make asan` builds DIR/unit, DIR/e2e and the programs in DIR/bin, and
# sets ASAN_OPTIONS and UBSAN_OPTIONS).  Fails if a suite fails or if
# anything reports a sanitizer finding: criterion counts a leak inside a
# test as a pass, so the output is searched too.  The end-to-end tests
# search their children's stderr themselves.  Logs: DIR/unit.log,
# DIR/e2e.log.
#
# One test at a time (--jobs 1): with tests in parallel, criterion
# 2.4.1's runner itself leaks a few 48-byte blocks (allocated inside
# libcriterion), and LeakSanitizer would fail the run for criterion's
# sake, not ours.

set -u
dir=${1:?usage: run-asan.sh DIR}
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac

# LeakSanitizer at exit of every test process and every program.
: "${ASAN_OPTIONS:=detect_leaks=1}"
export ASAN_OPTIONS

# Run "$@" with its output shown and kept in log; its status in rc.
# Now and then criterion cannot start its first worker under ASan
# ("Could not spawn test instance: Protocol error": BoxFort's forked
# child did not stop as expected) and aborts before any test ran; that
# is tried again, twice at most.  Nothing else is.
run() {
	log=$1
	shift
	for try in 1 2 3; do
		{ "$@"; echo $? >"$log.rc"; } 2>&1 | tee "$log"
		rc=$(cat "$log.rc")
		rm -f "$log.rc"
		grep -q 'Synthesis:' "$log" && return
		grep -q 'Could not spawn test instance' "$log" || return
		echo "run-asan: criterion could not start (try $try of 3)"
	done
}

reports='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'
reports="$reports|SUMMARY: UndefinedBehaviorSanitizer"

status=0
for suite in unit e2e; do
	if [ ! -x "$dir/$suite" ]; then
		echo "run-asan: $dir/$suite missing (make asan-build)" >&2
		exit 1
	fi
	if [ $suite = e2e ]; then
		run "$dir/e2e.log" env DOPY_BIN="$dir/bin" "$dir/e2e" --jobs 1
	else
		run "$dir/unit.log" "$dir/unit" --jobs 1
	fi
	found=$(grep -E -m3 "$reports" "$dir/$suite.log")
	if [ "$rc" -ne 0 ]; then
		echo "asan: $suite FAILED (exit $rc)"
		status=1
	elif [ -n "$found" ]; then
		echo "asan: $suite FAILED: sanitizer report in $dir/$suite.log:"
		echo "$found"
		status=1
	else
		echo "asan: $suite ok, no sanitizer reports"
	fi
done
exit $status

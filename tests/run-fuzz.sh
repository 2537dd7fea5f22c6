#!/bin/sh
# run-fuzz.sh SECONDS - run each libFuzzer harness (tests/fuzz_frame,
# tests/fuzz_value, tests/fuzz_session, tests/fuzz_client,
# tests/fuzz_dump; `make fuzz` builds them) for SECONDS, FUZZ_JOBS
# (default 2, one per CPU of the machines make check runs on) at a time,
# each over a copy of its seed corpus in tests/corpus, so that the
# inputs a run discovers do not pile up in git.  Fails on any crash, leak, timeout or sanitizer report; the
# input that caused it is kept in tests/.work/.
#
# To reproduce a failure:	tests/fuzz_value tests/.work/fuzz-value-crash-X
# To grow the corpus for good:	tests/fuzz_frame -max_total_time=600 \
#	-max_len=65536 DIR tests/corpus/frame, then tests/fuzz_frame
#	-merge=1 tests/corpus/frame DIR (and review what it adds).

set -u
secs=${1:-20}
case $secs in
''|*[!0-9]*) echo "usage: $0 seconds" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/dopy-fuzz.XXXXXX") || exit 1
# The session harness's store, on tmpfs where there is one; a harness
# that crashes cannot remove it, so it lives and dies with this run.
scratch=$(mktemp -d /dev/shm/dopy-fuzz.XXXXXX 2>/dev/null) ||
    scratch=$(mktemp -d "$work/scratch.XXXXXX") || exit 1
trap 'rm -rf "$work" "$scratch"' EXIT
trap 'exit 1' INT TERM
mkdir -p tests/.work

names="frame value session client dump"
jobs=${FUZZ_JOBS:-2}
case $jobs in
''|*[!0-9]*|0) echo "run-fuzz: FUZZ_JOBS must be a positive number" >&2
	exit 2 ;;
esac
reports='ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:'
reports="$reports|==[0-9]+== ?ERROR|deadly signal|Test unit written"
for n in $names; do
	if [ ! -x "tests/fuzz_$n" ] || [ ! -d "tests/corpus/$n" ]; then
		echo "run-fuzz: tests/fuzz_$n or tests/corpus/$n missing" >&2
		exit 1
	fi
done

start() {
	cp -R "tests/corpus/$1" "$work/$1"
	# Hangs count too: an input may take at most 10 s.
	TMPDIR=$scratch "tests/fuzz_$1" -max_total_time="$secs" \
	    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="tests/.work/fuzz-$1-" \
	    "$work/$1" >"$work/$1.log" 2>&1 &
	eval "pid_$1=\$!"
}

# Wait for harness $1 and say how it went; 1 if it failed.
finish() {
	eval "wait \$pid_$1"
	rc=$?
	log=$work/$1.log
	seeds=$(ls "tests/corpus/$1" | wc -l)
	now=$(ls "$work/$1" | wc -l)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	bad=$(grep -E -m1 "$reports" "$log")
	if [ "$rc" -ne 0 ] || [ -n "$bad" ]; then
		echo "fuzz_$1: FAILED (exit $rc): ${bad:-see the log}"
		tail -n 60 "$log"
		ls tests/.work/fuzz-$1-* 2>/dev/null |
		    sed 's/^/  reproduce: tests\/fuzz_'"$1"' /'
		return 1
	fi
	echo "fuzz_$1: ok, ${runs:-?} inputs in ${secs}s," \
	    "corpus $seeds seeds -> $now"
}

status=0
set -- $names
while [ $# -gt 0 ]; do
	batch=
	while [ $# -gt 0 ] && [ "$(echo $batch | wc -w)" -lt "$jobs" ]; do
		start "$1"
		batch="$batch $1"
		shift
	done
	for n in $batch; do
		finish "$n" || status=1
	done
done
exit $status

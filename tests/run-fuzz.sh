#!/bin/sh
# run-fuzz.sh SECONDS - run each libFuzzer harness (tests/fuzz_frame,
# tests/fuzz_value; `make fuzz` builds them) for SECONDS, side by side,
# over a copy of its seed corpus in tests/corpus, so that the inputs a run
# discovers do not pile up in git.  Fails on any crash, leak, timeout or
# sanitizer report; the input that caused it is kept in tests/.work/.
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
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
mkdir -p tests/.work

names="frame value"
reports='ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:'
reports="$reports|==[0-9]+== ?ERROR|deadly signal|Test unit written"
for n in $names; do
	if [ ! -x "tests/fuzz_$n" ] || [ ! -d "tests/corpus/$n" ]; then
		echo "run-fuzz: tests/fuzz_$n or tests/corpus/$n missing" >&2
		exit 1
	fi
	cp -R "tests/corpus/$n" "$work/$n"
	# Hangs count too: an input may take at most 10 s.
	"tests/fuzz_$n" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="tests/.work/fuzz-$n-" \
	    "$work/$n" >"$work/$n.log" 2>&1 &
	eval "pid_$n=\$!"
done

status=0
for n in $names; do
	eval "wait \$pid_$n"
	rc=$?
	log=$work/$n.log
	seeds=$(ls "tests/corpus/$n" | wc -l)
	now=$(ls "$work/$n" | wc -l)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	bad=$(grep -E -m1 "$reports" "$log")
	if [ "$rc" -ne 0 ] || [ -n "$bad" ]; then
		echo "fuzz_$n: FAILED (exit $rc): ${bad:-see the log}"
		tail -n 60 "$log"
		ls tests/.work/fuzz-$n-* 2>/dev/null |
		    sed 's/^/  reproduce: tests\/fuzz_'"$n"' /'
		status=1
	else
		echo "fuzz_$n: ok, ${runs:-?} inputs in ${secs}s," \
		    "corpus $seeds seeds -> $now"
	fi
done
exit $status

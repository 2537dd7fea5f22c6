#!/bin/sh
# The shared library must export exactly the functions declared in
# lib/dopy.h, and lib/dopy.sym must list exactly those.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Function names: an identifier followed by '(' in a prototype line.
sed -n 's/^[a-z].*[ *]\(dopy_[a-z_0-9]*\)(.*/\1/p; s/^\t\+\**\(dopy_[a-z_0-9]*\)(.*/\1/p' \
    lib/dopy.h | sort -u > "$tmp/header"
grep -o 'dopy_[a-z_0-9]*;' lib/dopy.sym | tr -d ';' | sort -u > "$tmp/sym"
nm -D --defined-only lib/libdopy.so | awk '$2 == "T" { print $3 }' |
    sed 's/@.*//' | sort -u > "$tmp/so"
status=0
if ! diff -u "$tmp/header" "$tmp/sym"; then
	echo "check-symbols: lib/dopy.sym differs from lib/dopy.h" >&2
	status=1
fi
if ! diff -u "$tmp/header" "$tmp/so"; then
	echo "check-symbols: libdopy.so exports differ from lib/dopy.h" >&2
	status=1
fi
[ $status -eq 0 ] && echo "check-symbols: $(wc -l < "$tmp/so") symbols match dopy.h"
exit $status

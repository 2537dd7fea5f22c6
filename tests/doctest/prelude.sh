# The start of every page's script (tests/doctest/run.sh).
set +e
# Close a command's output with a newline and keep its status for a
# following "echo $?".
dt_end() {
	echo
	return "$1"
}
# Wait, a few seconds at most, until a server started with & listens.
dt_ready() {
	i=0
	while [ $i -lt 100 ]; do
		case $1 in
		unix:*)	[ -S "${1#unix:}" ] && return 0 ;;
		*:*)	nc -z "${1%:*}" "${1##*:}" 2>/dev/null && return 0 ;;
		*)	return 0 ;;
		esac
		sleep 0.05
		i=$((i + 1))
	done
	echo "doctest: nothing listens on $1"
}
# Whether the lines of block (trimmed) appear one after another in file.
dt_contains() {
	awk 'function t(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	    NR == FNR { b[++nb] = t($0); next }
	    { f[++nf] = t($0) }
	    END { for (i = 1; i + nb - 1 <= nf; i++) {
			for (k = 1; k <= nb && f[i + k - 1] == b[k]; k++) ;
			if (k > nb) exit 0 }
		  print "not in " FILENAME; exit 1 }' "$2" "$1"
}

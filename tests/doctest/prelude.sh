# The start of every page's script (tests/doctest/run.sh).
set +e
dt_st=0
# Mark where a command's output starts, and give it the status of the
# command before, for an "echo $?".
dt_begin() {
	echo "@@DT $1@@"
	return $dt_st
}
# Close a command's output with a newline, and keep its status.
dt_end() {
	dt_st=$1
	echo
}
# Standard output line-buffered, as on a terminal, so that it keeps its
# place among the lines a program writes to standard error (stdbuf -oL).
if [ -f /usr/libexec/coreutils/libstdbuf.so ]; then
	LD_PRELOAD=/usr/libexec/coreutils/libstdbuf.so _STDBUF_O=L
	export LD_PRELOAD _STDBUF_O
fi
# Wait, a few seconds at most, until a server started with & listens.
dt_ready() {
	i=0
	while [ $i -lt 100 ]; do
		case $1 in
		*:0)	return 0 ;;	# the session waits itself (-B)
		unix:*)	[ -S "${1#unix:}" ] && return 0 ;;
		*:*)	nc -z "${1%:*}" "${1##*:}" 2>/dev/null && return 0 ;;
		*)	return 0 ;;
		esac
		sleep 0.05
		i=$((i + 1))
	done
	echo "doctest: nothing listens on $1"
}
# Whether block appears in file: C comments, "# " comment lines, blank
# lines and the amount of white space aside, its lines are consecutive
# lines of file.
dt_contains() {
	awk 'function t(s) {
		if (incom && !sub(/^.*\*\//, "", s))
			return ""
		incom = 0
		gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", s)
		if (sub(/\/\*.*$/, "", s))
			incom = 1
		gsub(/[ \t]+/, " ", s)
		gsub(/^ | $/, "", s)
		return s ~ /^#( |$)/ ? "" : s	# a shell or unit comment
	    }
	    FNR == 1 { incom = 0 }
	    NR == FNR { if ((l = t($0)) != "") b[++nb] = l; next }
	    { if ((l = t($0)) != "") f[++nf] = l }
	    END { for (i = 1; i + nb - 1 <= nf; i++) {
			for (k = 1; k <= nb && f[i + k - 1] == b[k]; k++) ;
			if (k > nb) exit 0 }
		  print "not in " FILENAME; exit 1 }' "$2" "$1"
}

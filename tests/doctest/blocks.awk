# blocks.awk - split a man page (fmt=roff) or README (fmt=md) into its
# literal blocks, each with the doctest marker that precedes it.
#
# Writes, for the nth block, dir/n.src (the block's source lines) and a
# line "n LINE KIND ARGS" to dir/index, LINE being where the block starts
# in the page.  KIND is the marker's first word, or "-" with no marker.
# A marker is the line just before the block:
#	.\" doctest: KIND [ARGS]		(man pages)
#	<!-- doctest: KIND [ARGS] -->		(markdown)
# A markdown fence's info string (```c) goes into ARGS as lang=X when
# there is no marker.

function marker(s) {
	sub(/^[^:]*doctest:[ \t]*/, "", s)
	sub(/[ \t]*-->[ \t]*$/, "", s)
	return s
}

function start(line, info) {
	n++
	out = dir "/" n ".src"
	printf "" > out
	m = pending
	if (m == "")
		m = "-" (info != "" ? " lang=" info : "")
	print n, line, m > (dir "/index")
	pending = ""
	inblock = 1
}

BEGIN { n = 0; inblock = 0; pending = "" }

fmt == "roff" && !inblock && /^\.\\" doctest:/ { pending = marker($0); next }
fmt == "md" && !inblock && /^<!-- doctest:/ { pending = marker($0); next }

fmt == "roff" && !inblock && /^\.Bd -literal/ { start(FNR + 1, ""); next }
fmt == "roff" && inblock && /^\.Ed/ { close(out); inblock = 0; next }

fmt == "md" && !inblock && /^```/ {
	info = $0
	sub(/^```[ \t]*/, "", info)
	start(FNR + 1, info)
	next
}
fmt == "md" && inblock && /^```[ \t]*$/ { close(out); inblock = 0; next }

inblock { print > out; next }

# A marker must sit right above its block: anything between loses it.
pending != "" && !/^[ \t]*$/ && !/^\.\\"/ {
	printf "%s:%d: doctest marker not followed by a block\n",
	    FILENAME, FNR > "/dev/stderr"
	bad = 1
	pending = ""
}

END {
	if (inblock) {
		printf "%s: unterminated block\n", FILENAME > "/dev/stderr"
		exit 1
	}
	exit bad
}

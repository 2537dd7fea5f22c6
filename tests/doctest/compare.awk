# compare.awk - compare what a page's commands printed (actual) with what
# the page says they print (expect).  Both are split at "@@DT b.c@@"
# lines.  In the page's text a line "..." stands for any number of lines
# and "..." inside a line for any text.  Host names and pids in remote
# traces differ from run to run, so both sides have them replaced.
#
#	awk -v page=P -f compare.awk index expect actual
# index gives the source line of block b, for the messages.

function norm(s) {
	gsub(/host [^ ]+ pid [0-9]+/, "host H pid P", s)
	gsub(/"host":"[^"]*","pid":[0-9]+/, "\"host\":\"H\",\"pid\":P", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# The expected line as an anchored regular expression.
function pattern(s,    r, i, ch) {
	r = ""
	while ((i = index(s, "...")) > 0) {
		r = r quote(substr(s, 1, i - 1)) ".*"
		s = substr(s, i + 3)
	}
	return "^" r quote(s) "$"
}

function quote(s,    r, i, ch) {
	r = ""
	for (i = 1; i <= length(s); i++) {
		ch = substr(s, i, 1)
		if (index("\\^$.[]|()*+?{}/", ch))
			r = r "\\" ch
		else
			r = r ch
	}
	return r
}

# Whether expected lines e[i..] match actual lines a[j..] of one command.
function match_from(id, i, j,    k) {
	if (i > ne[id])
		return j > na[id]
	if (E[id, i] == "...") {
		for (k = j; k <= na[id] + 1; k++)
			if (match_from(id, i + 1, k))
				return 1
		return 0
	}
	if (j > na[id] || A[id, j] !~ pattern(E[id, i]))
		return 0
	return match_from(id, i + 1, j + 1)
}

function show(id,    i, b) {
	b = id
	sub(/\..*/, "", b)
	printf "%s:%s: command %s prints something else\n", page, start[b],
	    id
	printf "--- the page says:\n"
	for (i = 1; i <= ne[id]; i++)
		printf "\t%s\n", E[id, i]
	printf "--- it printed:\n"
	for (i = 1; i <= na[id]; i++)
		printf "\t%s\n", A[id, i]
}

FILENAME == ARGV[1] { start[$1] = $2; next }

/^@@DT [0-9.]+@@$/ {
	id = $2
	sub(/@@$/, "", id)
	if (FILENAME == ARGV[2]) {
		ids[++nid] = id
		ne[id] = 0
	} else {
		na[id] = 0
		seen[id] = 1
	}
	next
}

FILENAME == ARGV[2] { E[id, ++ne[id]] = norm($0); next }
{ A[id, ++na[id]] = norm($0) }

END {
	for (k = 1; k <= nid; k++) {
		id = ids[k]
		if (!(id in seen)) {
			b = id
			sub(/\..*/, "", b)
			printf "%s:%s: command %s never ran (the page's " \
			    "script stopped or timed out before it)\n", page,
			    start[b], id
			bad++
			continue
		}
		# dt_end's newline: one empty line closes every command.
		if (na[id] > 0 && A[id, na[id]] == "")
			na[id]--
		if (!match_from(id, 1, 1)) {
			show(id)
			bad++
		}
	}
	exit bad > 0
}

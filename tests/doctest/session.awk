# session.awk - turn a shell session from a page into a script and the
# output it should print.
#
# Input: the rendered block.  Lines starting with "$ " are commands; a
# command goes on over the next lines while a line ends in \, |, &&,
# do, then, else or {,
# and over a here-document to its end word.  Other lines are the output
# the command before them prints (standard output and error together).
#
# Appends to script (sh) and to expect, both marked with "@@DT b.c@@" per
# command so run.sh can pair what ran with what the page says.  A
# command ending in & is a server started in the background: its pid is
# kept for the runner to stop, and a listener it names with -l is waited
# for before the next command runs; "kill $!" waits until it has gone.

function flush() {
	if (cmd == "" && want != "") {
		printf "block %s: output before any command\n", b \
		    > "/dev/stderr"
		bad = 1
	}
	if (cmd == "")
		return
	id = b "." ++c
	print "dt_begin " id >> script
	print "@@DT " id "@@" >> expect
	printf "%s", want >> expect
	if (cmd ~ /&[ \t]*$/) {
		print cmd >> script
		print "echo $! >> \"$DT_PIDS\"" >> script
		if (match(cmd, /-l [^ ]+/))
			print "dt_ready " substr(cmd, RSTART + 3, RLENGTH - 3) \
			    >> script
	} else {
		print "{ " cmd >> script
		print "}" >> script
	}
	print "dt_end $?" >> script
	# A person takes longer than that to type the next line.
	if (cmd ~ /^kill \$!/)
		print "wait $! 2>/dev/null" >> script
	cmd = ""
	want = ""
}

function continues(s) {
	return s ~ /(\\|\||&&|[ \t;](do|then|else|\{))[ \t]*$/
}

BEGIN { cmd = ""; want = ""; heredoc = ""; cont = 0 }

heredoc != "" {
	cmd = cmd "\n" $0
	if ($0 == heredoc)
		heredoc = ""
	next
}

/^\$ / {
	flush()
	cmd = substr($0, 3)
	cont = continues($0)
	if (match($0, /<<-?[ \t]*['"]?[A-Za-z_]+/)) {
		heredoc = substr($0, RSTART, RLENGTH)
		gsub(/^<<-?[ \t]*['"]?/, "", heredoc)
	}
	next
}

cont {
	cmd = cmd "\n" $0
	cont = continues($0)
	next
}

{ want = want $0 "\n" }

END {
	flush()
	if (heredoc != "") {
		printf "block %s: here-document never ends\n", b > "/dev/stderr"
		exit 1
	}
	exit bad
}

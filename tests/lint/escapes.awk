# escapes.awk - find roff escapes in the man pages that do not print what
# the writer meant (make lint-man).  mandoc -Tlint accepts them, as roff
# gives each a meaning: "\n" in 'a\nb' reads a number register and prints
# "ab", a "\"" starts a comment that eats the rest of the line, a
# backslash at the end of a line joins it to the next.  Write \e for a
# backslash.  Allowed: \e \& \- \(xx \[name] \*(xx \*[name] \fX \f(xx
# \| \^ \  \0 \% \~, and \" at the start of a comment line.

{
	line = $0
	if (line ~ /^\.\\"/)
		next
	rest = line
	while ((i = index(rest, "\\")) > 0) {
		esc = substr(rest, i + 1, 1)
		if (esc == "")
			bad("a backslash at the end of the line joins it to the next")
		else if (esc == "(")
			i += 3
		else if (esc == "[" || (esc == "*" && substr(rest, i + 2, 1) == "["))
			i += index(substr(rest, i), "]") - 1
		else if (esc == "*" || esc == "f")
			i += substr(rest, i + 2, 1) == "(" ? 4 : 2
		else if (index("e&-|^ 0%~", esc) == 0)
			bad("\\" esc " is a roff escape, not a backslash and " esc \
			    "; write \\e" esc)
		rest = substr(rest, i + 2)
	}
}

function bad(why) {
	printf "%s:%d: %s\n", FILENAME, FNR, why
	n++
}

END { exit n > 0 }

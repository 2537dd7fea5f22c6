#!/bin/sh
# run.sh [PAGE...] - run every example in README.md and the man pages
# (make doctest, part of make check), and fail if any prints something
# other than what its page says.
#
# Each literal block of a page (.Bd -literal in man/, ``` in README.md)
# is one of these, named by a marker on the line above it (blocks.awk):
#   sh		a shell session: "$ command" lines and their output, run
#		and compared (the default for a block starting with "$ ")
#   c NAME [MORE.c...]  a C program: written to NAME.c and built with
#		pkg-config against the installed library (with MORE.c,
#		files an earlier session made), warnings being errors; a
#		later session of the page may run ./NAME
#   c-top DECL	C declarations or functions, compiled (not linked) after
#		<dopy.h>, the usual system headers and DECL
#   c-body DECL	C statements, compiled as the body of an int function
#		that begins with DECL and ends with a label fail:
#   sh-with SETUP  a session that needs what the page shows done as root
#		(a key in /etc, a server under inetd): tests/doctest/setup/
#		SETUP.sh does the same as the user, once a page, first
#   file PATH	a configuration file shipped in the source tree (and
#		loaded by the real daemon in the launcher tests): the
#		block must appear in PATH line for line
#   skip WHY	not runnable here (system set-up as root, a grammar, a
#		wire dump checked elsewhere); counted and listed with WHY
# A block with no marker that is not a session fails: every example is
# either run or says why not.
#
# A page's blocks run in order in one shell, in a directory of their
# own with HOME set to it, so a page may build on its earlier examples.
# What the runner changes, and only in sessions: ports 9600 to 9603
# on any host become free ports on 127.0.0.1 (found by a listener binding port 0),
# /tmp/ becomes the page's own tmp/, the installed programs (make
# install into tests/.work) come first in PATH, bin/ is the source
# tree's, and ssh is a stand-in that runs the command here, as ssh to
# this machine would (the real sshd is in the launcher tests).  Servers
# a session starts with & are stopped by pid when its page ends.
set -u
top=$(pwd)
work=$top/tests/.work/doctest
here=$top/tests/doctest
fails=0
ran=0
skipped=0
skips=

rm -rf "$work"
mkdir -p "$work/fakebin"
make -s install PREFIX="$work/prefix" >"$work/install.log" 2>&1 || {
	cat "$work/install.log"
	echo "doctest: make install failed"
	exit 1
}
cp "$here/ssh" "$work/fakebin/ssh"
chmod +x "$work/fakebin/ssh"

# Free ports for 9600 to 9603: what listeners binding port 0 got.
ports="9600 9601 9602 9603"
for p in $ports; do
	"$work/prefix/bin/dopyd" -B -l 127.0.0.1:0 >"$work/port$p" 2>/dev/null &
	echo $! >>"$work/portpids"
done
for p in $ports; do
	i=0
	while [ ! -s "$work/port$p" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -s "$work/port$p" ] || { echo "doctest: no free port"; exit 1; }
done
while read -r p; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done <"$work/portpids"
# What sessions see of them: DT_PORT_9600 for setup scripts, and the
# sed expressions that rewrite the pages' addresses.
subst=
for p in $ports; do
	got=$(cat "$work/port$p")
	export DT_PORT_$p="$got"
	subst="$subst -e s#\\(127\\.0\\.0\\.1\\|host\\|server\\|nshost\\|elsewhere\\):$p#127.0.0.1:$got#g"
done

# A block's text as a reader sees it.
render() {	# fmt src
	if [ "$1" = md ]; then
		cat "$2"
		return
	fi
	{
		printf '.Dd $Mdocdate$\n.Dt DOCTEST 1\n.Os\n.Sh DOCTEST\n'
		printf '.Bd -literal\n'
		cat "$2"
		printf '.Ed\n'
	} | mandoc -Tmarkdown | sed -n 's/^	//p' | sed 's/  $//'
}

substitute() {
	sed $subst -e "s#/tmp/#$pdir/tmp/#g"
}

# Emit the script and expectation of one block.
block() {	# n line kind args
	n=$1 line=$2 kind=$3
	shift 3
	args=$*
	txt=$pdir/blocks/$n.txt
	if [ "$kind" = - ]; then
		case "$args" in lang=c) kind=c-missing ;; esac
		if [ "$kind" = - ] && head -n 1 "$txt" | grep -q '^\$ '; then
			kind=sh
		fi
	fi
	case $kind in
	sh-with)
		# Once a page: what the page shows done as root, done here.
		if ! grep -q "^# setup $args\$" "$pdir/script"; then
			[ -f "$here/setup/$args.sh" ] ||
			    { fail "$line" "no setup $args"; return; }
			{ echo "# setup $args"; cat "$here/setup/$args.sh"; } \
			    >>"$pdir/script"
		fi
		block "$n" "$line" sh ;;
	sh)
		substitute <"$txt" >"$txt.sh"
		awk -v b="$n" -v script="$pdir/script" \
		    -v expect="$pdir/expect" -f "$here/session.awk" \
		    "$txt.sh" || fail "$line" "not a session"
		ran=$((ran + 1)) ;;
	c|c-top|c-body)
		[ -n "$args" ] || [ "$kind" != c ] ||
		    { fail "$line" "c needs a program name"; return; }
		compile "$n" "$kind" "$args" "$txt"
		ran=$((ran + 1)) ;;
	file)
		step "$n" "dt_contains '$top/$args' '$txt'"
		ran=$((ran + 1)) ;;
	skip)
		skipped=$((skipped + 1))
		skips="$skips
	$page:$line: $args" ;;
	c-missing)
		fail "$line" "a C block needs a marker (c NAME, c-top or c-body)" ;;
	*)
		fail "$line" "no doctest marker, and not a session (\$ ...)" ;;
	esac
}

# One command of the page's script that must print nothing.
step() {	# n command
	printf 'dt_begin %s.1\n%s\ndt_end $?\n' "$1" "$2" >>"$pdir/script"
	printf '@@DT %s.1@@\n' "$1" >>"$pdir/expect"
}

compile() {	# n kind args txt
	src=$pdir/blocks/$1.c
	case $2 in
	c)	# c NAME [MORE.c...]: more sources an earlier session made
		# (dopy-idl's output, say) are built into the program too.
		set -- "$1" "$2" "${3%% *}" "$4" "$(echo "$3" | sed -n 's/^[^ ]* //p')"
		cp "$4" "$pdir/$3.c"
		step "$1" "cc -Wall -Wextra -Werror -o $3 $3.c $5 \$(pkg-config --cflags --libs dopy)"
		return ;;
	c-top)	{ cat "$here/prelude.h"; printf '%s\n' "$3"; cat "$4"; } >"$src" ;;
	c-body)	{ cat "$here/prelude.h"
		  printf 'int dt_body(void);\nint\ndt_body(void)\n{\n%s\n' "$3"
		  cat "$4"
		  # The label a fragment's "goto fail" goes to.
		  printf 'goto fail;\nfail:\n\treturn 0;\n}\n'; } >"$src" ;;
	esac
	step "$1" "cc -Wall -Wextra -Werror -Wno-unused -c -o /dev/null $src \$(pkg-config --cflags dopy)"
}

fail() {	# line why
	echo "$page:$1: $2"
	fails=$((fails + 1))
}

page() {	# path
	page=$1
	pdir=$work/pages/$(basename "$1")
	mkdir -p "$pdir/blocks" "$pdir/tmp"
	ln -s "$top/bin" "$pdir/bin"
	: >"$pdir/blocks/index"
	case $1 in *.md) fmt=md ;; *) fmt=roff ;; esac
	awk -v fmt=$fmt -v dir="$pdir/blocks" -f "$here/blocks.awk" "$1" ||
	    { fails=$((fails + 1)); return; }
	cp "$here/prelude.sh" "$pdir/script"
	: >"$pdir/expect"
	: >"$pdir/pids"
	set -f		# a marker's C declarations hold stars
	while read -r n line kind args; do
		render $fmt "$pdir/blocks/$n.src" >"$pdir/blocks/$n.txt"
		block "$n" "$line" "$kind" $args
	done <"$pdir/blocks/index"
	set +f
	[ -s "$pdir/expect" ] || return 0
	(cd "$pdir" && HOME=$pdir DT_DIR=$pdir DT_PIDS=$pdir/pids \
	    PATH=$work/fakebin:$work/prefix/bin:$PATH \
	    PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig \
	    timeout -k 5 120 sh "$pdir/script" >"$pdir/actual" 2>&1)
	while read -r p; do
		kill "$p" 2>/dev/null
	done <"$pdir/pids"
	awk -v page="$page" -f "$here/compare.awk" "$pdir/blocks/index" \
	    "$pdir/expect" "$pdir/actual" || fails=$((fails + 1))
}

[ $# -gt 0 ] || set -- README.md man/*.[1-8]
for p in "$@"; do
	page "$p"
done
echo "doctest: $ran examples run, $skipped not runnable:$skips"
if [ $fails -gt 0 ]; then
	echo "doctest: $fails failed (the pages' work is in $work)"
	exit 1
fi
echo "doctest: ok"

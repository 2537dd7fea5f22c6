#!/bin/sh
# Install the Debian packages named on the command line that are missing.
# As root: apt-get install them.  Otherwise: print the line and fail.
#
# Some of them (openbsd-inetd, xinetd, openssh-server) start a system
# service when installed; the tests start private copies of their own, so
# during the install a policy-rc.d(8) that answers 101 ("action
# forbidden") keeps invoke-rc.d and deb-systemd-invoke from starting
# anything.  One already there is left alone; ours is removed afterwards.
#
# openbsd-inetd and xinetd conflict (both provide inet-superserver), and
# apt would remove one to install the other; the tests run both.  So an
# inetd that is wanted while the other is installed (or wanted too:
# openbsd-inetd is then the one installed) is unpacked with dpkg-deb -x
# into tests/.work/PACKAGE instead, never configured nor started but by a
# test, and only its libraries are installed.
work=$(dirname "$0")/.work

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
	    grep -q '^install ok installed$'
}

# Unpack rather than install inetd $1?
unpack_it() {
	[ "$1" = xinetd ] && other=openbsd-inetd || other=xinetd
	installed "$other" && return 0
	[ "$1" = xinetd ] || return 1
	case " $all " in *" openbsd-inetd "*) return 0 ;; esac
	return 1
}

all="$*"
missing=""
unpack=""
for p in "$@"; do
	if ! installed "$p"; then
		case $p in
		openbsd-inetd|xinetd)
			[ -f "$work/$p/.unpacked" ] && continue
			if unpack_it "$p"; then
				unpack="$unpack $p"
				continue
			fi ;;
		esac
		missing="$missing $p"
	fi
done
for u in $unpack; do
	for p in $(apt-cache depends --no-recommends --no-suggests \
	    --no-conflicts --no-breaks --no-replaces --no-enhances "$u" |
	    sed -n 's/^ *\(Pre\)\{0,1\}Depends: \(lib[^ <>]*\)$/\2/p'); do
		installed "$p" || missing="$missing $p"
	done
done
[ -z "$missing" ] && [ -z "$unpack" ] && exit 0
if [ -n "$missing" ] && [ "$(id -u)" -ne 0 ]; then
	echo "dopy needs these Debian packages:$missing" >&2
	echo "run: sudo apt-get install -y$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	echo "installing:$missing"
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ] && [ ! -L "$policy" ]; then
		trap 'rm -f "$policy"' EXIT
		trap 'exit 1' HUP INT TERM
		printf '#!/bin/sh\n# dopy tests/install-deps.sh: no service starts during its install\nexit 101\n' \
		    >"$policy" && chmod 755 "$policy" || exit 1
	fi
	apt-get update -qq >/dev/null || exit 1
	apt-get install -y -qq $missing >/dev/null || exit 1
fi
for u in $unpack; do
	echo "unpacking $u into $work/$u (it conflicts with the other inetd)"
	dl=$(mktemp -d) || exit 1
	(cd "$dl" && apt-get download -qq "$u" 2>/dev/null) &&
	    rm -rf "${work:?}/$u" && mkdir -p "$work/$u" &&
	    dpkg-deb -x "$dl"/"$u"_*.deb "$work/$u" &&
	    touch "$work/$u/.unpacked"
	r=$?
	rm -rf "$dl"
	[ $r -eq 0 ] || exit $r
done
exit 0

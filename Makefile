# dopy - distributed objects for C.  One non-recursive Makefile.
#
#   make            library and programs
#   make demo       dopyclient against dopyd over a pipe, then one dopy-rsh call
#   make check      unit and end-to-end tests, the same under ASan+UBSan,
#                   the fuzzers for a short while, the examples of
#                   README.md and man/, man page lint
#   make bench      speed figures as ratios against raw limits
#   make install    PREFIX=/usr/local DESTDIR=
#   make help       every target
#
# demo and check install missing Debian packages first (see deps).

VERSION	= 0.1.0
SOMAJOR	= 0
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib
INCDIR	?= $(PREFIX)/include
MANDIR	?= $(PREFIX)/share/man
PKGDIR	?= $(LIBDIR)/pkgconfig

CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BSD_CFLAGS != pkg-config --cflags libbsd-overlay 2>/dev/null || true
BSD_LIBS   != pkg-config --libs libbsd-overlay 2>/dev/null || echo -lbsd
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(BSD_CFLAGS) -Ilib $(CFLAGS)
LIBS	= -ltpl -lsodium -lseccomp $(BSD_LIBS) -lpthread

SONAME	= libdopy.so.$(SOMAJOR)
SOFILE	= lib/libdopy.so.$(VERSION)

# One folder per layer (README.md, The tree); shared helpers in lib/.
LAYERS    = wire client server store tools idl
LIB_SRCS  = $(sort $(wildcard lib/*.c $(addsuffix /*.c,$(addprefix lib/,$(LAYERS)))))
LIB_HDRS  = $(sort $(wildcard lib/*.h lib/*/*.h))
LIB_OBJS  = $(LIB_SRCS:.c=.o)
PROGS	  = bin/dopyd bin/dopy-rsh bin/dopyclient bin/dopy-idl bin/dopy-dump \
	    bin/dopy-replay
MANPAGES  = $(wildcard man/*.[1-9])
UNIT_SRCS = $(sort $(wildcard tests/test_*.c))
E2E_SRCS  = $(sort $(wildcard tests/e2e_*.c))
TEST_HDRS = $(wildcard tests/*.h)

CRIT_CFLAGS != pkg-config --cflags criterion 2>/dev/null || true
CRIT_LIBS   != pkg-config --libs criterion 2>/dev/null || echo -lcriterion

.PHONY: all deps deps-check deps-bench demo check unit e2e asan fuzz \
	lint-man doctest symbols bench install uninstall clean help

all: lib/libdopy.a lib/libdopy.so $(PROGS) lib/dopy.pc

# ---- library ----
lib/%.o: lib/%.c $(LIB_HDRS)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

lib/libdopy.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# -static-libgcc: crash reports' unwinder (lib/server/crash.c) is linked
# in, not a libgcc_s.so more for every client and server to load.
$(SOFILE): $(LIB_OBJS) lib/dopy.sym
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/dopy.sym \
	    -static-libgcc $(LDFLAGS) -o $@ $(LIB_OBJS) $(LIBS)

lib/libdopy.so: $(SOFILE)
	ln -sf libdopy.so.$(VERSION) lib/$(SONAME)
	ln -sf libdopy.so.$(VERSION) $@

# Made again at install time, for the PREFIX given there.  Only a
# private prefix gets an rpath in Libs: a packager's /usr or /usr/local
# is on the loader's path (after ldconfig), and Debian's lintian refuses
# an rpath there.  PC_RPATH=yes or no overrides.
PC_RPATH ?= $(if $(filter /usr /usr/local,$(PREFIX)),no,yes)
PC_RPATH_FLAG = $(if $(filter yes,$(PC_RPATH)),-Wl$(comma)-rpath$(comma)$${libdir} ,)
comma := ,
MAKE_PC = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@BINDIR@|$(BINDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@RPATH@|$(PC_RPATH_FLAG)|' lib/dopy.pc.in
lib/dopy.pc: lib/dopy.pc.in Makefile
	$(MAKE_PC) > $@

# ---- programs: linked to the shared library, found beside them ----
PROG_LDFLAGS = -Llib -Wl,-rpath,'$$ORIGIN/../lib' $(LDFLAGS)

bin/%.o: bin/%.c $(LIB_HDRS) $(wildcard bin/*.h)
	$(CC) $(ALL_CFLAGS) $(JSON_CFLAGS) $(EDIT_CFLAGS) -c -o $@ $<

# dopyd forks per connection and is exec'd per connection by inetd, so
# it takes the static libdopy: one shared object fewer to map at exec,
# to copy at every fork and to keep resident.  With -z now the listener
# binds every symbol once at start and its children inherit that,
# instead of each child resolving them again on first call; read-only
# relocations are a hardening as well.  libsodium and libbsd stay shared
# so that their security updates reach dopyd without a rebuild;
# make DOPYD_STATIC=static links them in too (about 190 KiB less
# resident, measured with make bench ONLY=rss).  -static-libgcc links in
# the unwinder of crash reports, which backtrace(3) would dlopen.
SODIUM_SLIBS != pkg-config --static --libs libsodium 2>/dev/null || \
	    echo -lsodium
BSD_SLIBS != pkg-config --static --libs libbsd-overlay 2>/dev/null || \
	    echo -lbsd -lmd
DOPYD_STATIC ?=
DOPYD_SHARED_LIBS = -lsodium -lseccomp $(BSD_LIBS)
DOPYD_STATIC_LIBS = -Wl,-Bstatic $(BSD_SLIBS) $(SODIUM_SLIBS) -lseccomp \
	    -Wl,-Bdynamic
DOPYD_LIBS = -ltpl $(if $(DOPYD_STATIC),$(DOPYD_STATIC_LIBS), \
	    $(DOPYD_SHARED_LIBS)) -lpthread
DOPYD_LDFLAGS = -Wl,-z,relro,-z,now -static-libgcc $(LDFLAGS)
TESTOBJ_OBJS = $(patsubst %.c,%.o,$(sort $(wildcard bin/testobj*.c)))
bin/dopyd: bin/dopyd.o $(TESTOBJ_OBJS) lib/libdopy.a
	$(CC) -o $@ bin/dopyd.o $(TESTOBJ_OBJS) lib/libdopy.a \
	    $(DOPYD_LDFLAGS) $(DOPYD_LIBS)

# jansson parses JSON input and libedit edits the console's lines, for
# dopy-rsh alone (dopy.7).
JSON_CFLAGS != pkg-config --cflags jansson 2>/dev/null || true
JSON_LIBS   != pkg-config --libs jansson 2>/dev/null || echo -ljansson
EDIT_CFLAGS != pkg-config --cflags libedit 2>/dev/null || true
EDIT_LIBS   != pkg-config --libs libedit 2>/dev/null || echo -ledit
RSH_SRCS = bin/dopy-rsh.c $(sort $(wildcard bin/rsh_*.c))
RSH_OBJS = $(RSH_SRCS:.c=.o)
# The interface parser (lib/idl/, not exported by the shared library)
# reads declared errors from what servers publish.
IDL_PARSE_OBJS = $(patsubst %.c,%.o,$(filter-out lib/idl/gen%, \
	    $(wildcard lib/idl/*.c)))
bin/dopy-rsh: $(RSH_OBJS) $(IDL_PARSE_OBJS) lib/libdopy.so
	$(CC) -o $@ $(RSH_OBJS) $(IDL_PARSE_OBJS) $(PROG_LDFLAGS) -ldopy \
	    $(JSON_LIBS) $(EDIT_LIBS) $(BSD_LIBS)

# The interface compiler needs lib/idl/, which the shared library does
# not export: it takes the static one.
bin/dopy-idl: bin/dopy-idl.o lib/libdopy.a
	$(CC) -o $@ bin/dopy-idl.o lib/libdopy.a $(LDFLAGS) $(LIBS)

# dopy-dump reads recordings and decodes frames with lib/wire/, and
# dopy-replay speaks the wire by hand through the client's internals
# (lib/client/client.h): the shared library exports neither, so both
# take the static one.
DUMP_OBJS = bin/dopy-dump.o \
	    $(patsubst %.c,%.o,$(sort $(wildcard bin/dump_*.c)))
REPLAY_OBJS = bin/dopy-replay.o $(patsubst %.c,%.o,$(sort $(wildcard \
	    bin/replay_*.c)))
bin/dopy-dump: $(DUMP_OBJS) lib/libdopy.a
bin/dopy-replay: $(REPLAY_OBJS) lib/libdopy.a
bin/dopy-dump bin/dopy-replay:
	$(CC) -o $@ $(filter %.o,$^) lib/libdopy.a $(LDFLAGS) $(LIBS)

bin/dopyclient: bin/dopyclient.o lib/libdopy.so
	$(CC) -o $@ bin/dopyclient.o $(PROG_LDFLAGS) -ldopy $(BSD_LIBS)

# ---- Debian packages ----
# Build needs; check adds the test tools.
DEPS_BUILD = gcc make pkg-config libbsd-dev libtpl-dev libsodium-dev \
	libseccomp-dev libjansson-dev libedit-dev
DEPS_CHECK = $(DEPS_BUILD) libcriterion-dev clang g++ libclang-rt-14-dev \
	mandoc procps openbsd-inetd xinetd ucspi-tcp openssh-server \
	openssh-client systemd netcat-openbsd jq
# bench adds ONC RPC, the peer it measures dopy beside.
DEPS_BENCH = $(DEPS_BUILD) rpcsvc-proto libtirpc-dev

deps:
	@sh tests/install-deps.sh $(DEPS_BUILD)
deps-check:
	@sh tests/install-deps.sh $(DEPS_CHECK)
deps-bench:
	@sh tests/install-deps.sh $(DEPS_BENCH)

# ---- demo ----
demo: deps
	@$(MAKE) --no-print-directory all
	bin/dopyclient
	bin/dopy-rsh bin/dopyd test greet name=World

# ---- tests ----
tests/unit: $(UNIT_SRCS) $(TEST_HDRS) lib/libdopy.a
	$(CC) $(ALL_CFLAGS) $(CRIT_CFLAGS) -o $@ $(UNIT_SRCS) lib/libdopy.a \
	    $(CRIT_LIBS) $(LIBS)

# Generated code under test (tests/e2e_idl.c): stubs and a skeleton from
# tests/idl/types.idl, whose server is bin/typesd (not installed), and
# stubs from tests/idl/test.idl (prefix ht_) for dopyd's test object.
IDL_GEN = tests/idl/gen/types.h tests/idl/gen/types_client.h \
	tests/idl/gen/types_client.c tests/idl/gen/types_server.h \
	tests/idl/gen/types_server.c tests/idl/gen/test.h \
	tests/idl/gen/test_client.h tests/idl/gen/test_client.c
IDL_CFLAGS = -Itests/idl/gen
$(IDL_GEN) &: tests/idl/types.idl tests/idl/test.idl bin/dopy-idl
	mkdir -p tests/idl/gen
	bin/dopy-idl -o tests/idl/gen/types tests/idl/types.idl
	bin/dopy-idl -c -p ht_ -o tests/idl/gen/test tests/idl/test.idl
bin/typesd: tests/idl/typesd.c $(IDL_GEN) lib/libdopy.a
	$(CC) $(ALL_CFLAGS) $(IDL_CFLAGS) -Werror -o $@ tests/idl/typesd.c \
	    tests/idl/gen/types_server.c lib/libdopy.a $(LIBS)
E2E_GEN_SRCS = tests/idl/gen/types_client.c tests/idl/gen/test_client.c

tests/e2e: $(E2E_SRCS) $(TEST_HDRS) lib/libdopy.a $(IDL_GEN)
	$(CC) $(ALL_CFLAGS) $(IDL_CFLAGS) $(CRIT_CFLAGS) $(JSON_CFLAGS) \
	    -o $@ $(E2E_SRCS) $(E2E_GEN_SRCS) lib/libdopy.a $(CRIT_LIBS) \
	    $(JSON_LIBS) $(LIBS)

# DOPY_BIN tells the end-to-end tests which programs to run.
unit: tests/unit
	tests/unit
e2e: tests/e2e $(PROGS) bin/typesd
	DOPY_BIN=$(CURDIR)/bin tests/e2e

# The whole suite again with AddressSanitizer and UBSan, in tests/asan.
ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
asan:
	@$(MAKE) --no-print-directory -f Makefile asan-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    sh tests/run-asan.sh $(CURDIR)/tests/asan
asan-build: $(IDL_GEN)
	mkdir -p tests/asan/bin $(addprefix tests/asan/lib/,$(LAYERS))
	for f in $(LIB_SRCS); do \
	    $(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -c -o tests/asan/$${f%.c}.o $$f \
	    || exit 1; done
	rm -f tests/asan/lib/libdopy.a
	ar rcs tests/asan/lib/libdopy.a $(patsubst %.c,tests/asan/%.o,$(LIB_SRCS))
	for p in "dopyd $(notdir $(basename $(wildcard bin/testobj*.c)))" \
	    "dopy-rsh $(notdir $(basename $(wildcard bin/rsh_*.c)))" \
	    "dopy-replay $(notdir $(basename $(wildcard bin/replay_*.c)))" \
	    "dopy-dump $(notdir $(basename $(wildcard bin/dump_*.c)))" \
	    dopyclient dopy-idl; do \
	    srcs=""; for s in $$p; do srcs="$$srcs bin/$$s.c"; done; \
	    case $$p in dopy-rsh*) xl="$(JSON_LIBS) $(EDIT_LIBS)";; \
	    *) xl="";; esac; \
	    $(CC) $(ALL_CFLAGS) $(JSON_CFLAGS) $(EDIT_CFLAGS) $(ASAN_FLAGS) \
	    -o tests/asan/bin/$${p%% *} $$srcs tests/asan/lib/libdopy.a \
	    $$xl $(LIBS) || exit 1; done
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(CRIT_CFLAGS) -o tests/asan/unit \
	    $(UNIT_SRCS) tests/asan/lib/libdopy.a $(CRIT_LIBS) $(LIBS)
	$(CC) $(ALL_CFLAGS) $(IDL_CFLAGS) $(ASAN_FLAGS) -o tests/asan/bin/typesd \
	    tests/idl/typesd.c tests/idl/gen/types_server.c \
	    tests/asan/lib/libdopy.a $(LIBS)
	$(CC) $(ALL_CFLAGS) $(IDL_CFLAGS) $(ASAN_FLAGS) $(CRIT_CFLAGS) \
	    $(JSON_CFLAGS) -o tests/asan/e2e $(E2E_SRCS) $(E2E_GEN_SRCS) \
	    tests/asan/lib/libdopy.a $(CRIT_LIBS) $(JSON_LIBS) $(LIBS)

# libFuzzer harnesses: the frame and value decoders, whole sessions
# against the server loop with dopyd's objects, hostile answers to the
# client, recordings and frames as dopy-dump reads them.  The library
# is compiled once for all five (coverage without
# libFuzzer's main), into tests/fuzzlib.  make fuzz FUZZ_SECONDS=N runs
# each for N seconds (FUZZ_TIME is the older name).
FUZZ_CC	= clang
FUZZ_SAN = address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE $(BSD_CFLAGS) -Ilib -Ibin -g -O1
FUZZ_NAMES = frame value session client dump
FUZZ_PROGS = $(addprefix tests/fuzz_,$(FUZZ_NAMES))
FUZZ_TIME ?= 20
FUZZ_SECONDS ?= $(FUZZ_TIME)
FUZZ_LIB_OBJS = $(patsubst lib/%.c,tests/fuzzlib/%.o,$(LIB_SRCS))
TESTOBJ_SRCS = $(sort $(wildcard bin/testobj*.c))
tests/fuzzlib/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
	    -c -o $@ $<
tests/fuzzlib/libdopy.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJS)
FUZZ_LINK = $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN)
tests/fuzz_%: tests/fuzz_%.c tests/fuzz_util.c tests/fuzz_util.h \
    tests/fuzzlib/libdopy.a
	$(FUZZ_LINK) -o $@ $< tests/fuzz_util.c tests/fuzzlib/libdopy.a \
	    $(LIBS)
# The session harness serves dopyd's own objects.
tests/fuzz_session: tests/fuzz_session.c tests/fuzz_util.c \
    tests/fuzz_util.h $(TESTOBJ_SRCS) bin/testobj.h tests/fuzzlib/libdopy.a
	$(FUZZ_LINK) -o $@ $< tests/fuzz_util.c $(TESTOBJ_SRCS) \
	    tests/fuzzlib/libdopy.a $(LIBS)
fuzz: $(FUZZ_PROGS)
	sh tests/run-fuzz.sh $(FUZZ_SECONDS)

lint-man:
	@out=$$(mandoc -Tlint -Wwarning $(MANPAGES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "mandoc -Tlint: $(words $(MANPAGES)) pages clean"
	@awk -f tests/lint/escapes.awk $(MANPAGES) && \
	    echo "escapes: $(words $(MANPAGES)) pages clean"

# Every example of README.md and the man pages, run (tests/doctest).
doctest: all
	sh tests/doctest/run.sh

# Exported symbols must be exactly the functions of dopy.h.
symbols: lib/libdopy.so
	sh tests/check-symbols.sh

check: deps-check
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit e2e symbols lint-man doctest
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz

# ---- bench ----
# ONC RPC is a peer: rpcgen writes its stubs from tests/perf/bench_rpc.x
# into tests/perf/gen/, and they link against libtirpc.  The generated
# code is not ours, so it is built apart without the three warnings it
# draws (unused locals, a dispatcher with no prototype, a cast of
# xdr_void).
BENCH_SRCS = $(filter-out tests/perf/echo.c,$(wildcard tests/perf/*.c))
RPC_GEN_OBJS = tests/perf/gen/bench_rpc_xdr.o \
	tests/perf/gen/bench_rpc_clnt.o tests/perf/gen/bench_rpc_svc.o
RPC_GEN = tests/perf/gen/bench_rpc.h $(RPC_GEN_OBJS:.o=.c)
RPC_CFLAGS != pkg-config --cflags libtirpc 2>/dev/null || \
	echo -I/usr/include/tirpc
RPC_LIBS != pkg-config --libs libtirpc 2>/dev/null || echo -ltirpc
RPC_NOWARN = -Wno-unused-variable -Wno-missing-prototypes \
	-Wno-cast-function-type
$(RPC_GEN) &: tests/perf/bench_rpc.x
	rm -rf tests/perf/gen && mkdir tests/perf/gen
	cd tests/perf && rpcgen -h -o gen/bench_rpc.h bench_rpc.x && \
	    rpcgen -c -o gen/bench_rpc_xdr.c bench_rpc.x && \
	    rpcgen -l -o gen/bench_rpc_clnt.c bench_rpc.x && \
	    rpcgen -m -o gen/bench_rpc_svc.c bench_rpc.x
tests/perf/gen/%.o: tests/perf/gen/%.c tests/perf/gen/bench_rpc.h
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(RPC_NOWARN) $(RPC_CFLAGS) \
	    $(CFLAGS) -c -o $@ $<
tests/bench: $(BENCH_SRCS) tests/perf/bench.h lib/libdopy.a $(IDL_GEN) \
    $(RPC_GEN_OBJS)
	$(CC) $(ALL_CFLAGS) $(IDL_CFLAGS) -Itests/perf -Itests/perf/gen \
	    $(RPC_CFLAGS) -o $@ $(BENCH_SRCS) $(E2E_GEN_SRCS) \
	    $(RPC_GEN_OBJS) lib/libdopy.a $(LIBS) $(RPC_LIBS)
# conn_rate_exec's baseline: the smallest C program, libc alone.
tests/perf/echo: tests/perf/echo.c
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ tests/perf/echo.c
bench: deps-bench all bin/typesd tests/bench tests/perf/echo
	tests/bench $(CURDIR)/bin $(ONLY)

# ---- install ----
# Every function of dopy.h gets a name in man3 that opens dopy(3), as
# OpenBSD's MLINKS do, so `man dopy_proxy_call` works.
FUNCS   = $(shell sed -n 's/^[[:space:]]*\(dopy_[a-z0-9_]*\);/\1/p' lib/dopy.sym)
DOCDIR ?= $(PREFIX)/share/doc/dopy
DOCS    = inetd/README inetd/inetd.conf inetd/dopy.socket inetd/dopy@.service \
	  inetd/dopy-listen.socket inetd/dopy-listen.service inetd/tcpserver.run \
	  inetd/xinetd.d/dopy ssh/README ssh/authorized_keys.example \
	  ssh/sshd_config.snippet
INSTALL_DIRS = $(BINDIR) $(LIBDIR) $(INCDIR) $(PKGDIR) $(MANDIR)/man1 \
	  $(MANDIR)/man3 $(MANDIR)/man5 $(MANDIR)/man7 $(MANDIR)/man8 \
	  $(DOCDIR)/inetd/xinetd.d $(DOCDIR)/ssh
install: all
	install -d $(addprefix $(DESTDIR),$(INSTALL_DIRS))
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)
	install -m 644 lib/libdopy.a $(DESTDIR)$(LIBDIR)
	install -m 755 $(SOFILE) $(DESTDIR)$(LIBDIR)
	ln -sf libdopy.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libdopy.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libdopy.so
	install -m 644 lib/dopy.h $(DESTDIR)$(INCDIR)
	$(MAKE_PC) > $(DESTDIR)$(PKGDIR)/dopy.pc
	for m in $(MANPAGES); do \
	    install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}; done
	for f in $(FUNCS); do \
	    ln -sf dopy.3 $(DESTDIR)$(MANDIR)/man3/$$f.3; done
	for d in $(DOCS); do \
	    install -m 644 $$d $(DESTDIR)$(DOCDIR)/$$d; done
	@if [ "$(PC_RPATH)" = no ] && [ -z "$(DESTDIR)" ] && \
	    [ "$$(id -u)" = 0 ]; then ldconfig || true; fi

# Removes what install put there, and the directories it leaves empty.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS)))
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,libdopy.a libdopy.so \
	    $(SONAME) libdopy.so.$(VERSION))
	rm -f $(DESTDIR)$(INCDIR)/dopy.h $(DESTDIR)$(PKGDIR)/dopy.pc
	for m in $(MANPAGES); do \
	    rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	for f in $(FUNCS); do rm -f $(DESTDIR)$(MANDIR)/man3/$$f.3; done
	for d in $(DOCS); do rm -f $(DESTDIR)$(DOCDIR)/$$d; done
	for d in $(INSTALL_DIRS); do \
	    while [ "$$d" != "$(PREFIX)" ] && [ "$$d" != / ] && \
	        rmdir $(DESTDIR)$$d 2>/dev/null; do d=$${d%/*}; done; done

help:
	@echo "make            the library and the programs"
	@echo "make demo       dopyclient against dopyd over a pipe, then one dopy-rsh call"
	@echo "make check      everything below but bench, as CI runs it"
	@echo "make unit       unit tests (criterion)"
	@echo "make e2e        end-to-end tests of the real programs and daemons"
	@echo "make asan       unit and e2e tests under AddressSanitizer and UBSan"
	@echo "make fuzz       the fuzzers for FUZZ_SECONDS (default 20) each"
	@echo "make doctest    every example of README.md and the man pages"
	@echo "make lint-man   mandoc -Tlint and a check of roff escapes"
	@echo "make symbols    exported symbols are exactly dopy.h's functions"
	@echo "make bench      speed and memory as ratios to raw limits (ONLY=...)"
	@echo "make install    PREFIX=/usr/local DESTDIR= (PC_RPATH=yes|no)"
	@echo "make uninstall  removes what install put there"
	@echo "make deps       installs the Debian packages the build needs"
	@echo "make deps-check installs those make check needs too"
	@echo "make deps-bench installs those make bench needs (ONC RPC)"
	@echo "make clean      removes what the build made"
	@echo "make help       this list"

clean:
	rm -rf tests/idl/gen tests/perf/gen bin/typesd
	rm -f lib/*.o lib/*/*.o bin/*.o lib/libdopy.* lib/dopy.pc $(PROGS) \
	    tests/unit tests/e2e $(FUZZ_PROGS) tests/bench \
	    tests/perf/echo
	rm -rf tests/asan tests/.work tests/fuzzlib

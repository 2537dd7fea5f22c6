/*
 * crashsym.c - function names for the crash handler's trace (crash.c),
 * from the program's own symbol table.
 *
 * backtrace_symbols_fd(3) names only dynamic symbols: nothing of a
 * program not linked with -rdynamic, and no static function anywhere,
 * which is where most methods live.  So before serving, the program's
 * file (/proc/self/exe) is mapped read-only and its .symtab found; in
 * the handler a name is a linear scan of that mapping, which reads
 * memory and calls nothing (dladdr(3) is not async-signal-safe: it
 * takes the loader's lock).  A stripped program has no .symtab: its
 * frames keep backtrace_symbols_fd's names.  Shared libraries keep
 * them too (the symbols of libc, of a libdopy.so, are exported ones).
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

static struct {
	const uint8_t	*map;
	size_t		 maplen;
	const ElfW(Sym)	*syms;
	size_t		 nsyms;
	const char	*strs;
	size_t		 strslen;
	uintptr_t	 bias;		/* where the program is loaded */
	uintptr_t	 lo, hi;	/* its code */
	char		 path[256];
} exe;

/* The main program is the first object dl_iterate_phdr reports. */
static int
main_program(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph;
	uintptr_t a;
	size_t i;

	(void)size;
	(void)arg;
	exe.bias = info->dlpi_addr;
	exe.lo = UINTPTR_MAX;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		a = info->dlpi_addr + ph->p_vaddr;
		if (a < exe.lo)
			exe.lo = a;
		if (a + ph->p_memsz > exe.hi)
			exe.hi = a + ph->p_memsz;
	}
	return 1;
}

/*
 * The .symtab and its strings in the mapping, checked to lie in it.  The
 * headers are read with pread(2), not through the mapping: only the
 * handler reads it, and a page touched now would fault in 64 KiB of the
 * file around it (the kernel's fault-around), resident for the life of
 * every server process.
 */
static int
find_symtab(int fd)
{
	ElfW(Ehdr) eh;
	ElfW(Shdr) *sh = NULL, *st;
	size_t i, len;
	int r = -1;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_shentsize != sizeof(*sh) || eh.e_shoff > exe.maplen ||
	    (exe.maplen - eh.e_shoff) / sizeof(*sh) < eh.e_shnum)
		return -1;
	len = eh.e_shnum * sizeof(*sh);
	if ((sh = malloc(len)) == NULL ||
	    pread(fd, sh, len, (off_t)eh.e_shoff) != (ssize_t)len)
		goto out;
	for (i = 0; i < eh.e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh.e_shnum)
			continue;
		st = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > exe.maplen || sh[i].sh_size >
		    exe.maplen - sh[i].sh_offset || st->sh_offset >
		    exe.maplen || st->sh_size > exe.maplen - st->sh_offset)
			break;
		exe.syms = (const void *)(exe.map + sh[i].sh_offset);
		exe.nsyms = sh[i].sh_size / sizeof(ElfW(Sym));
		exe.strs = (const char *)exe.map + st->sh_offset;
		exe.strslen = st->sh_size;
		r = 0;
		break;
	}
out:
	free(sh);
	return r;
}

void
dopy_crashsym_init(void)
{
	struct stat st;
	ssize_t n;
	void *p;
	int fd;

	if (exe.map != NULL)
		return;
	dl_iterate_phdr(main_program, NULL);
	if ((n = readlink("/proc/self/exe", exe.path,
	    sizeof(exe.path) - 1)) > 0)
		exe.path[n] = '\0';
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) != MAP_FAILED) {
		exe.map = p;
		exe.maplen = (size_t)st.st_size;
		if (find_symtab(fd) < 0) {
			munmap(p, exe.maplen);
			exe.map = NULL;
		}
	}
	close(fd);
}

/*
 * The function of the program holding pc (for a return address, pc - 1
 * lies in the call), its name and the offset of pc in it; NULL when pc
 * is not the program's or no function symbol covers it.  The program's
 * path and pc's offset in it (for addr2line -e) in *path and *off.
 * Async-signal-safe: reads only.
 */
const char *
dopy_crashsym_lookup(uintptr_t pc, uintptr_t look, uintptr_t *fnoff,
    const char **path, uintptr_t *off)
{
	const ElfW(Sym) *s;
	uintptr_t a;
	size_t i;

	if (exe.syms == NULL || look < exe.lo || look >= exe.hi)
		return NULL;
	a = look - exe.bias;
	for (i = 0; i < exe.nsyms; i++) {
		s = &exe.syms[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_size == 0 ||
		    a < s->st_value || a - s->st_value >= s->st_size ||
		    s->st_name >= exe.strslen)
			continue;
		*fnoff = pc - exe.bias - s->st_value;
		*path = exe.path;
		*off = pc - exe.bias;
		return exe.strs + s->st_name;
	}
	return NULL;
}

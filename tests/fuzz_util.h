/*
 * fuzz_util.h - what the libFuzzer harnesses share (tests/fuzz_util.c):
 * feeding an input to code that reads a descriptor, walking a stream of
 * frames, a mutator that keeps frame headers consistent, and a scratch
 * directory for the store.
 */
#ifndef DOPY_FUZZ_UTIL_H
#define DOPY_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Abort with a message: libFuzzer reports it as a crash and keeps the
 * input. */
void	 fuzz_die(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* A descriptor holding data, read from its start and giving EOF after
 * it: whoever reads it never blocks and never waits for a writer. */
int	 fuzz_input_fd(const uint8_t *data, size_t size);
/* A descriptor open on /dev/null for writing (a new one each call). */
int	 fuzz_devnull(void);

/*
 * The next frame of a stream at *off: 1 with its header in f (payload
 * pointing into data) and *off past it; 0 at the end of data; -1 when
 * what is left is not a whole frame (a cut header or payload, or bad
 * magic).  Lengths are not checked against any maximum.
 */
int	 fuzz_frame_next(const uint8_t *data, size_t size, size_t *off,
	    struct dopy_frame *f);
/* Whether data is whole frames back to back, with nothing left over. */
int	 fuzz_frames_whole(const uint8_t *data, size_t size);

/*
 * A structure-aware mutation of a stream of frames, for
 * LLVMFuzzerCustomMutator: most of the time a whole frame is mutated,
 * duplicated, dropped, moved or given another type or call id, and the
 * headers' lengths are made right again; now and then the bytes are
 * mutated as they are (which may break the framing, as a peer may).
 * Returns the new size (at most max).
 */
size_t	 fuzz_frames_mutate(uint8_t *data, size_t size, size_t max,
	    unsigned int seed);

/* A fresh directory under $TMPDIR (else /dev/shm) for this process,
 * removed at exit;
 * empty it between inputs with fuzz_dir_empty. */
char	*fuzz_tmpdir(const char *what);
void	 fuzz_dir_empty(const char *dir);

#endif

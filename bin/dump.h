/*
 * dump.h - what the parts of dopy-dump(1) share: an input, the worst
 * status so far, and printing one line of JSON.
 */
#ifndef DOPY_DUMP_H
#define DOPY_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

/* Exit statuses (dopy-dump(1), EXIT STATUS). */
#define DUMP_OK		0
#define DUMP_BAD	1	/* something skipped or not a frame */
#define DUMP_USAGE	2
#define DUMP_IO		3

enum dump_kind { DUMP_REC, DUMP_RAW };

struct dump_in {
	const char	*path;		/* "-": standard input */
	int		 fd;
	enum dump_kind	 kind;
	const char	*from;		/* raw: who sent it, or NULL */
	uint8_t		 head[8];	/* read to tell the kind */
	size_t		 nhead;
	/* raw streams: bytes not yet printed, and where they begin */
	struct dopy_buf	 b;
	uint64_t	 off;
	int		 eof;
	int		 lost;		/* in bad bytes: looking for a frame */
	uint64_t	 lost_at;
};

/* The worst status seen; dump_worse keeps the higher. */
extern int	dump_status;
void	 dump_worse(int status);
/* Print line and a newline; a failed write is DUMP_IO. */
void	 dump_line(const char *line);
/* A line with a warning on stderr (an input that cannot be read). */
void	 dump_warn(const struct dump_in *, const char *what);

/* dump_rec.c: every record of a recording, in order. */
void	 dump_recording(struct dump_in *);
/* dump_raw.c: n raw streams at once, frames printed as they complete. */
void	 dump_raw(struct dump_in *ins, size_t n);

#endif

/*
 * replay.h - dopy-replay(1)'s parts: the recording read into
 * connections (replay_load.c), one connection played against a target
 * and its answers compared (replay_run.c, replay_cmp.c).
 */
#ifndef DOPY_REPLAY_H
#define DOPY_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "client/client.h"

/* One recorded frame, copied out of the recording. */
struct rp_rec {
	uint8_t		 hdr[DOPY_HDR_LEN];
	uint8_t		*payload;
	size_t		 len;
	uint64_t	 time_ns;
	uint8_t		 flags;		/* DOPY_REC_OMIT, DOPY_REC_CUT */
	int		 client;	/* sent by the client */
};
/* A recorded connection: the records of one (pid, conn, side). */
struct rp_conn {
	uint32_t	 pid, conn;
	char		 side;
	struct rp_rec	*r;
	size_t		 n;
};
struct rp_set {
	struct rp_conn	*c;
	size_t		 n;
	size_t		 garbage;	/* bytes passed over */
};
struct rp_stats {
	unsigned long	 calls, same, differing, skipped, diffs;
};
struct rp_opts {
	const dopy_target *target;
	int		 timeout_ms;
	int		 verbose;
};

/* replay_load.c: every record of the recording on fd; 0, DOPY_E_INVAL
 * when it is no recording, DOPY_E_SYS, DOPY_E_NOMEM. */
int	 rp_load(int fd, struct rp_set *);
void	 rp_free(struct rp_set *);
uint8_t	 rp_type(const struct rp_rec *);
uint32_t rp_id(const struct rp_rec *);

/* replay_run.c: replay c; 0, or -1 when the target cannot be dialled
 * (said on stderr). */
int	 rp_run(const struct rp_opts *, const struct rp_conn *,
	    struct rp_stats *);

/* replay_cmp.c: whether the frame read (hdr, payload) answers as the
 * recorded one did. */
int	 rp_same(const struct rp_rec *rec, const uint8_t *hdr,
	    const uint8_t *payload, size_t len);
/* The call's object and method (a CALL, ONEWAY or CALLBACK), as JSON
 * members appended to b. */
void	 rp_what_json(struct dopy_buf *b, const struct rp_rec *call);
/* One difference line on stdout: the recorded frame, and what came
 * instead (hdr NULL: nothing). */
void	 rp_report(const struct rp_conn *, const struct rp_rec *call,
	    const struct rp_rec *rec, const uint8_t *hdr,
	    const uint8_t *payload, size_t len);

#endif /* DOPY_REPLAY_H */

/* testobj.h - the `test` object that bin/dopyd serves. */
#ifndef DOPY_TESTOBJ_H
#define DOPY_TESTOBJ_H

#include "dopy.h"

extern const struct dopy_object_def dopy_test_object;
extern const struct dopy_pclass dopy_counter_class, dopy_note_class;

/* More test objects, one file each: callbacks, progress and fd watching
 * (testobj_cb.c), references (testobj_ref.c), attributes
 * (testobj_attr.c).  Each returns 0 or the error of dopy_server_add. */
int	testobj_cb_add(dopy_server *);
int	testobj_ref_add(dopy_server *);
int	testobj_attr_add(dopy_server *);
/* A generated object written by hand (testobj_stub.c): `stub`. */
int	testobj_stub_add(dopy_server *);
/* Streaming results (testobj_stream.c): `stream`. */
int	testobj_stream_add(dopy_server *);
/* The monotonic clock in milliseconds (testobj_cb.c). */
int64_t	testobj_now_ms(void);
/* Cancellation and deadlines (testobj_slow.c): `slow`. */
int	testobj_slow_add(dopy_server *);
/* Isolated methods (testobj_iso.c): `iso`. */
int	testobj_iso_add(dopy_server *);
/* Uploads (testobj_upload.c): `upload`. */
int	testobj_upload_add(dopy_server *);
/* Methods that die of fatal signals (testobj_crash.c): `crash`. */
int	testobj_crash_add(dopy_server *);
/* Sandboxes (testobj_sandbox.c): `sandbox`. */
int	testobj_sandbox_add(dopy_server *);
/* The demonstration persistent classes: counter, note and record. */
int	testobj_pclasses_add(dopy_server *);

#endif

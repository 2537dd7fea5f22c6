/*
 * dopyd - the stock dopy server: serves the `test` object (and the
 * built-in `dopy` object) on stdin/stdout, or listening; with -N and -P
 * the naming service and pos, with the demo classes counter and note.
 * See dopyd(8).
 */
#include <stdio.h>
#include <unistd.h>

#include "dopy.h"
#include "testobj.h"

int
main(int argc, char *argv[])
{
	dopy_server *srv;
	int status;

	if ((srv = dopy_server_new()) == NULL) {
		fprintf(stderr, "dopyd: out of memory\n");
		return 1;
	}
	if (dopy_server_add(srv, &dopy_test_object, NULL) < 0 ||
	    dopy_server_set_oneway(srv, "test", "notify") < 0 ||
	    testobj_pclasses_add(srv) < 0 ||
	    testobj_cb_add(srv) < 0 || testobj_ref_add(srv) < 0 ||
	    testobj_attr_add(srv) < 0 || testobj_stub_add(srv) < 0 ||
	    testobj_stream_add(srv) < 0 ||
	    testobj_slow_add(srv) < 0 || testobj_iso_add(srv) < 0 ||
	    testobj_upload_add(srv) < 0 || testobj_crash_add(srv) < 0 ||
	    testobj_sandbox_add(srv) < 0) {
		fprintf(stderr, "dopyd: %s\n", dopy_server_errmsg(srv));
		dopy_server_free(srv);
		return 1;
	}
	status = dopy_main(srv, argc, argv);
#if !defined(__SANITIZE_ADDRESS__)
	/* The process ends here: a listener's child after its connection,
	 * a dopyd exec'd per connection, or the listener.  Freeing the
	 * server would write to every page of its heap (in a listener's
	 * child a copy-on-write fault each) for the kernel to drop them,
	 * and exit() would run ld.so's finalisers and every library's
	 * destructors; stdio is all there is to flush.  Sanitizer builds
	 * free and return, so LeakSanitizer still checks every process. */
	fflush(NULL);
	_exit(status);
#endif
	dopy_server_free(srv);
	return status;
}

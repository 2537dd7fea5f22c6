/*
 * stub.c - calls from generated client stubs (dopy-idl(1)): arguments
 * written by the stub's put straight into the connection's write buffer
 * and the answer read by its get straight into the caller's result,
 * without value trees.  The sending, the HELLO of an early connection,
 * ids, futures and time limits are the dynamic calls' own (proxy.c,
 * future.c): only the encoder and the reader differ.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

/* Every argument of a stub's call is positional: its name is "". */
#define E8	"", "", "", "", "", "", "", ""
static const char *const positional[DOPY_MAX_ARGS] = {
	E8, E8, E8, E8, E8, E8, E8, E8
};

int
dopy_stub_encode(struct dopy_buf *b, const char *object, const char *method,
    const void *arg)
{
	const struct dopy_stub_args *sa = arg;
	struct dopy_out o;
	int r;

	if ((r = dopy_msg_call_put(b, object, method, positional,
	    sa->nargs)) < 0)
		return r;
	dopy_out_init(&o, b);
	if (sa->put != NULL)
		sa->put(&o, sa->args);
	/* A stub that wrote other than one image per argument is wrong:
	 * better refused here than by the server. */
	if (o.err == 0 && (o.open || o.nimages != sa->nargs))
		o.err = DOPY_E_INVAL;
	return o.err;
}

/* The checks every form makes; 0 or the error. */
static int
stub_check(dopy_proxy *p, const char *method, size_t nargs,
    dopy_error **ep)
{
	if (p == NULL || method == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if (nargs > DOPY_MAX_ARGS)
		return dopy_error_set(ep, DOPY_E_INVAL, "%s.%s: %zu arguments, "
		    "more than %d", p->object, method, nargs, DOPY_MAX_ARGS);
	if (p->conn->sess != NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "%s.%s: a server calls "
		    "its client back with dopy_proxy_call, not a generated "
		    "stub", p->object, method);
	return 0;
}

int
dopy_stub_oneway(dopy_proxy *p, const char *method, size_t nargs,
    dopy_put_fn put, const void *args, dopy_error **ep)
{
	struct dopy_stub_args sa = { nargs, put, args };
	int r;

	if ((r = stub_check(p, method, nargs, ep)) < 0)
		return r;
	return dopy_call_oneway_enc(p, method, dopy_stub_encode, &sa, ep);
}

int
dopy_stub_call_async(dopy_proxy *p, const char *method, size_t nargs,
    dopy_put_fn put, const void *args, dopy_get_fn get, void *result,
    dopy_future_fn done, void *arg, dopy_future **fp, dopy_error **ep)
{
	struct dopy_stub_args sa = { nargs, put, args };
	int r;

	if (fp != NULL)
		*fp = NULL;
	if (fp == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if ((r = stub_check(p, method, nargs, ep)) < 0)
		return r;
	return dopy_call_async_enc(p, method, dopy_stub_encode, &sa, 1, get,
	    result, done, arg, fp, ep);
}

int
dopy_stub_call(dopy_proxy *p, const char *method, size_t nargs,
    dopy_put_fn put, const void *args, dopy_get_fn get, void *result,
    dopy_error **ep)
{
	struct dopy_stub_args sa = { nargs, put, args };
	dopy_future *f;
	int r;

	if ((r = stub_check(p, method, nargs, ep)) < 0)
		return r;
	/* A method the proxy calls oneway goes out so from here too, as
	 * dopy_proxy_call sends it; its result stays unread. */
	if (dopy_proxy_oneway_index(p, method) >= 0)
		return dopy_call_oneway_enc(p, method, dopy_stub_encode, &sa, ep);
	if ((r = dopy_call_async_enc(p, method, dopy_stub_encode, &sa, 1, get,
	    result, NULL, NULL, &f, ep)) < 0)
		return r;
	r = dopy_future_wait(f, NULL, ep);
	dopy_future_free(f);
	return r;
}

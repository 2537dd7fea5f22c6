/*
 * test_pstruct.c - a persistent class whose state is a C struct
 * (dopy_server_add_pclass_struct): members read before a method and
 * written back after, strings owned by the library, read-only methods
 * and failures not saved, and a state that does not fit refused.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "testutil.h"

struct rec {
	int	 on;
	int64_t	 n;
	uint64_t u;
	double	 d;
	char	*s;
};

static const size_t rec_members[] = {
	offsetof(struct rec, on), offsetof(struct rec, n),
	offsetof(struct rec, u), offsetof(struct rec, d),
	offsetof(struct rec, s)
};

/* Every member changes; s grows by one "x". */
static int
bump(dopy_call *c)
{
	struct rec *r = dopy_call_pstruct(c);
	size_t len = r->s != NULL ? strlen(r->s) : 0;
	char *s = malloc(len + 2);

	if (s == NULL)
		return dopy_raise(c, "t.NoMemory", "out of memory");
	memcpy(s, r->s != NULL ? r->s : "", len);
	memcpy(s + len, "x", 2);
	free(r->s);
	r->s = s;
	r->on = !r->on;
	r->n++;
	r->u += 2;
	r->d += 0.5;
	return 0;
}

/* Changes the struct, then fails: nothing may be saved. */
static int
spoil(dopy_call *c)
{
	struct rec *r = dopy_call_pstruct(c);

	r->n = 999;
	return dopy_raise(c, "t.Spoilt", "failed after a change");
}

/* Declared read-only: its change is not saved either. */
static int
peek(dopy_call *c)
{
	struct rec *r = dopy_call_pstruct(c);

	r->n = 777;
	return dopy_return_string(c, r->s != NULL ? r->s : "");
}

static const struct dopy_method rec_methods[] = {
	{ "bump", bump, "", NULL, NULL },
	{ "spoil", spoil, "", NULL, NULL },
	{ "peek", peek, "", "string", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_pclass rec_class = {
	"rec", NULL, "(on:bool, n:int, u:uint, d:double, s:string)",
	rec_methods, "peek", NULL, NULL, NULL
};

static char dir[] = "/tmp/test_pstruct.XXXXXX";

/* A connection to a fresh server of class rec over dir. */
static dopy_conn *
connect_rec(pid_t *pid)
{
	dopy_server *s = tu_server();
	dopy_conn *c = NULL;
	int fd;

	cr_assert_not_null(s);
	cr_assert_eq(dopy_server_add_pos(s, dir), 0);
	cr_assert_eq(dopy_server_add_pclass_struct(s, &rec_class,
	    sizeof(struct rec), rec_members), 0, "%s", dopy_server_errmsg(s));
	cr_assert_gt(*pid = tu_serve(s, &fd), 0);
	cr_assert_eq(dopy_conn_fds(fd, fd, &c, NULL), 0);
	dopy_server_free(s);
	return c;
}

static char *
fetch_text(dopy_conn *c)
{
	dopy_proxy *pos = dopy_proxy_new(c, "pos");
	dopy_value *v;
	char *text;

	cr_assert_eq(dopy_proxy_callf(pos, "fetch", &v, NULL, "s", "r"), 0);
	text = dopy_value_format(v);
	dopy_value_free(v);
	dopy_proxy_free(pos);
	return text;
}

Test(pstruct, read_changed_and_saved)
{
	dopy_proxy *pos, *r;
	dopy_error *e = NULL;
	dopy_value *v;
	dopy_conn *c;
	char *text, cmd[100];
	pid_t pid;

	cr_assert_not_null(mkdtemp(dir));
	c = connect_rec(&pid);
	pos = dopy_proxy_new(c, "pos");
	r = dopy_proxy_new(c, "pos/r");
	cr_assert_eq(dopy_proxy_callf(pos, "put", NULL, &e, "s s s", "r",
	    "rec", "(false, 1, 2, 0.25, \"a\")"), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_proxy_call(r, "bump", NULL, NULL, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_proxy_call(r, "bump", NULL, NULL, &e), 0);
	cr_assert_str_eq(text = fetch_text(c), "(false, 3, 6, 1.25, \"axx\")");
	free(text);
	cr_assert_eq(dopy_proxy_call(r, "spoil", NULL, NULL, &e),
	    DOPY_E_REMOTE);
	dopy_error_free(e);
	cr_assert_eq(dopy_proxy_call(r, "peek", NULL, &v, NULL), 0);
	cr_assert_str_eq(dopy_value_get_string(v), "axx");
	dopy_value_free(v);
	cr_assert_str_eq(text = fetch_text(c), "(false, 3, 6, 1.25, \"axx\")",
	    "a failed or read-only method saved its change");
	free(text);
	dopy_proxy_free(pos);
	dopy_proxy_free(r);
	dopy_conn_close(c);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* A state with an array cannot be a C struct's members. */
Test(pstruct, state_that_does_not_fit)
{
	static const struct dopy_pclass bad = {
		"bad", NULL, "int[]", rec_methods, NULL, NULL, NULL, NULL
	};
	static const size_t off[] = { 0 };
	dopy_server *s = tu_server();

	cr_assert_eq(dopy_server_add_pclass_struct(s, &bad, 8, off),
	    DOPY_E_USAGE);
	cr_assert(strstr(dopy_server_errmsg(s), "not a int[]") != NULL,
	    "%s", dopy_server_errmsg(s));
	cr_assert_eq(dopy_server_add_pclass_struct(s, &rec_class, 0, off),
	    DOPY_E_INVAL);
	/* Refused, it is not registered: the name is free again. */
	cr_assert_eq(dopy_server_add_pclass(s, &bad), 0);
	dopy_server_free(s);
}

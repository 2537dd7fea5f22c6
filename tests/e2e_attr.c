/*
 * e2e_attr.c - attributes of the real dopyd's `thermo` object
 * (bin/testobj_attr.c), through the client library and through
 * dopy-rsh: members and functions, read-only ones, type checks,
 * introspection.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

static dopy_conn *
open_dopyd(void)
{
	char cmd[2048];
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	snprintf(cmd, sizeof(cmd), "exec %s", e2e_bin("dopyd"));
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	return c;
}

/* The thermo object of a new dopyd. */
static dopy_proxy *
open_thermo(dopy_conn **c)
{
	*c = open_dopyd();
	return dopy_proxy_new(*c, "thermo");
}

static void
close_thermo(dopy_conn *c, dopy_proxy *p)
{
	dopy_proxy_free(p);
	dopy_conn_close(c);
}

/* Setting attr to v (taken) must fail with code and, where not NULL,
 * error name and a message holding part. */
static void
set_fails(dopy_proxy *p, const char *attr, dopy_value *v, int code,
    const char *name, const char *part)
{
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_set(p, attr, v, &e), code, "set %s", attr);
	if (name != NULL)
		cr_assert_str_eq(dopy_error_name(e), name, "%s",
		    dopy_error_message(e));
	if (part != NULL)
		cr_assert_not_null(strstr(dopy_error_message(e), part), "%s",
		    dopy_error_message(e));
	dopy_error_free(e);
}

static dopy_value *
get(dopy_proxy *p, const char *attr)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_get(p, attr, &v, &e), 0, "get %s: %s", attr,
	    dopy_error_message(e));
	cr_assert_not_null(v);
	return v;
}

static void
set(dopy_proxy *p, const char *attr, dopy_value *v)
{
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_set(p, attr, v, &e), 0, "set %s: %s", attr,
	    dopy_error_message(e));
}

static int64_t
get_int(dopy_proxy *p, const char *attr)
{
	dopy_value *v = get(p, attr);
	int64_t i;

	cr_assert_eq(dopy_value_kind(v), DOPY_INT);
	i = dopy_value_get_int(v);
	dopy_value_free(v);
	return i;
}

/* attr must read as the string want. */
static void
get_string_is(dopy_proxy *p, const char *attr, const char *want,
    const char *why)
{
	dopy_value *v = get(p, attr);

	cr_assert_str_eq(dopy_value_get_string(v), want, "%s", why);
	dopy_value_free(v);
}

static char *
call_string(dopy_proxy *p, const char *method)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	char *s;

	cr_assert_eq(dopy_proxy_call(p, method, NULL, &v, &e), 0, "%s",
	    dopy_error_message(e));
	s = strdup(dopy_value_get_string(v));
	dopy_value_free(v);
	return s;
}

Test(attr, members_through_the_library, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *p = open_thermo(&c);
	dopy_value *v;
	char *s;

	cr_assert_eq(get_int(p, "setpoint"), 20);
	set(p, "setpoint", dopy_value_int(-7));
	cr_assert_eq(get_int(p, "setpoint"), -7, "the member was written");
	v = get(p, "temp");
	cr_assert_eq(dopy_value_kind(v), DOPY_DOUBLE);
	cr_assert_float_eq(dopy_value_get_double(v), 18.5, 1e-9);
	dopy_value_free(v);
	v = get(p, "on");
	cr_assert_eq(dopy_value_kind(v), DOPY_BOOL);
	cr_assert_eq(dopy_value_get_bool(v), 0);
	dopy_value_free(v);
	set(p, "on", dopy_value_bool(1));
	s = call_string(p, "describe");
	cr_assert_str_eq(s, "hall: on, setpoint -7, temp 18.5",
	    "the object's own method sees what was set");
	free(s);
	close_thermo(c, p);
}

Test(attr, functions_check_what_is_set, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *p = open_thermo(&c);

	get_string_is(p, "label", "hall", "");
	set(p, "label", dopy_value_string("attic"));
	get_string_is(p, "label", "attic", "");
	set_fails(p, "label", dopy_value_string(""), DOPY_E_REMOTE,
	    "thermo.BadLabel", NULL);
	get_string_is(p, "label", "attic", "a refused value changes nothing");
	close_thermo(c, p);
}

Test(attr, read_only_has_no_set, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *p = open_thermo(&c);
	dopy_error *e = NULL;

	set_fails(p, "temp", dopy_value_double(99), DOPY_E_USAGE,
	    "dopy.UnknownMethod", "set:temp");
	cr_assert_eq(dopy_proxy_get(p, "nosuch", &(dopy_value *){ NULL }, &e),
	    DOPY_E_USAGE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.UnknownMethod");
	dopy_error_free(e);
	close_thermo(c, p);
}

Test(attr, wrong_type_refused, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *p = open_thermo(&c);

	set_fails(p, "setpoint", dopy_value_string("hot"), DOPY_E_TYPE,
	    "dopy.TypeError", NULL);
	/* An int is not a bool. */
	set_fails(p, "on", dopy_value_int(1), DOPY_E_TYPE, NULL, NULL);
	cr_assert_eq(get_int(p, "setpoint"), 20, "nothing was written");
	cr_assert_eq(dopy_proxy_set(p, "setpoint", NULL, NULL), DOPY_E_INVAL);
	cr_assert_eq(dopy_proxy_set(NULL, "setpoint", dopy_value_int(1),
	    NULL), DOPY_E_INVAL, "and the value is freed (ASan)");
	close_thermo(c, p);
}

/* The row of method in a description, or NULL. */
static const dopy_value *
row(const dopy_value *methods, const char *method)
{
	size_t i;

	for (i = 0; i < dopy_value_len(methods); i++)
		if (strcmp(dopy_value_get_string(dopy_value_at(
		    dopy_value_at(methods, i), 0)), method) == 0)
			return dopy_value_at(methods, i);
	return NULL;
}

static const char *
field(const dopy_value *r, size_t i)
{
	return dopy_value_get_string(dopy_value_at(r, i));
}

Test(attr, introspection_lists_get_and_set, .timeout = 20)
{
	dopy_conn *c = open_dopyd();
	dopy_value *m = NULL;
	dopy_error *e = NULL;
	const dopy_value *r;

	cr_assert_eq(dopy_describe(c, "thermo", &m, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_not_null(row(m, "describe"), "the object's own method");
	cr_assert_not_null(r = row(m, "get:setpoint"));
	cr_assert_str_eq(field(r, 1), "");
	cr_assert_str_eq(field(r, 2), "int");
	cr_assert_str_eq(field(r, 3), "The temperature wanted.");
	cr_assert_not_null(r = row(m, "set:setpoint"));
	cr_assert_str_eq(field(r, 1), "value:int");
	cr_assert_str_eq(field(r, 2), "");
	cr_assert_not_null(r = row(m, "get:temp"));
	cr_assert_str_eq(field(r, 2), "double");
	cr_assert_null(row(m, "set:temp"), "temp is read-only");
	cr_assert_not_null(row(m, "set:label"));
	cr_assert_eq(dopy_value_len(m), 8, "describe, 4 get:, 3 set:");
	dopy_value_free(m);
	dopy_conn_close(c);
}

#define RSH(...) { (char *)e2e_bin("dopy-rsh"), __VA_ARGS__, NULL }

Test(attr, through_dopy_rsh, .timeout = 20)
{
	char *get_sp[] = RSH((char *)e2e_bin("dopyd"), "thermo",
	    "get:setpoint");
	char *set_sp[] = RSH((char *)e2e_bin("dopyd"), "thermo",
	    "set:setpoint", "25");
	char *get_temp[] = RSH((char *)e2e_bin("dopyd"), "thermo",
	    "get:temp");
	char *set_temp[] = RSH((char *)e2e_bin("dopyd"), "thermo",
	    "set:temp", "1");
	char *bad[] = RSH((char *)e2e_bin("dopyd"), "thermo", "set:on",
	    "warm");
	e2e_run_expect(get_sp, 0, "20\n", NULL);
	e2e_run_expect(set_sp, 0, "", NULL);
	e2e_run_expect(get_temp, 0, "18.5\n", NULL);
	e2e_run_expect(set_temp, 2, "", "no method 'set:temp'");
	e2e_run_expect(bad, 2, "", "parameter value");
}

/* One connection keeps what was set: a batch sets, then reads. */
Test(attr, set_then_get_in_a_batch, .timeout = 20)
{
	char *argv[] = RSH("-b", (char *)e2e_bin("dopyd"), "thermo");
	static const char in[] = "set:setpoint 30\nget:setpoint\n"
	    "set:label 'back door'\nget:label\nset:label ''\ndescribe\n";
	struct e2e_run r;

	e2e_run_ms(&r, in, sizeof(in) - 1, E2E_WAIT_MS, argv);
	e2e_assert_run(&r, 1, "\n30\n\nback door\n"
	    "error: remote: thermo.BadLabel: a label has 1 to 31 characters\n"
	    "back door: off, setpoint 30, temp 18.5\n");
	e2e_run_free(&r);
}

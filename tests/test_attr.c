/*
 * test_attr.c - registering attributes (lib/server/attr.c): what is refused
 * and why, and the method table an object gets.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"

struct st {
	int64_t	i;
	double	d;
	int	b;
};

static struct st state;

static int
m_noop(dopy_call *c)
{
	(void)c;
	return 0;
}

static int
g_name(dopy_call *c)
{
	return dopy_return_string(c, "x");
}

static int
s_name(dopy_call *c, const dopy_value *v)
{
	(void)c;
	(void)v;
	return 0;
}

static const struct dopy_method methods[] = {
	{ "noop", m_noop, "", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};
static const struct dopy_object_def def = { "obj", NULL, methods, NULL,
    NULL };
static const struct dopy_object_def nostate = { "nostate", NULL, methods,
    NULL, NULL };

#define END	{ NULL, NULL, 0, 0, NULL, NULL, NULL }

static dopy_server *
server(void)
{
	dopy_server *s = dopy_server_new();

	cr_assert_not_null(s);
	cr_assert_eq(dopy_server_add(s, &def, &state), 0);
	cr_assert_eq(dopy_server_add(s, &nostate, NULL), 0);
	return s;
}

/* add_attrs must refuse attrs on obj with a message containing what. */
static void
refused(const char *object, const struct dopy_attr *attrs, const char *what)
{
	dopy_server *s = server();
	const struct dopy_object *o = dopy_server_find(s, "obj");

	cr_assert_eq(dopy_server_add_attrs(s, object, attrs), DOPY_E_USAGE);
	cr_assert_not_null(strstr(dopy_server_errmsg(s), what),
	    "errmsg '%s', want '%s'", dopy_server_errmsg(s), what);
	cr_assert_eq(o->nmethods, 1, "the object is unchanged");
	cr_assert_eq(o->def, &def);
	dopy_server_free(s);
}

Test(attr_reg, table)
{
	static const struct dopy_attr a[] = {
		{ "i", "int", 1, offsetof(struct st, i), NULL, NULL, "an int" },
		{ "d", "double", 0, offsetof(struct st, d), NULL, NULL, NULL },
		END
	};
	static const struct dopy_attr b[] = {
		{ "name", "string", 1, 0, g_name, s_name, NULL },
		END
	};
	dopy_server *s = server();
	const struct dopy_object *o = dopy_server_find(s, "obj");

	cr_assert_eq(dopy_server_add_attrs(s, "obj", a), 0, "%s",
	    dopy_server_errmsg(s));
	cr_assert_eq(o->nmethods, 4);
	cr_assert_str_eq(o->def->methods[0].name, "noop");
	cr_assert_null(o->attrs[0], "an ordinary method");
	cr_assert_str_eq(o->def->methods[1].name, "get:i");
	cr_assert_str_eq(o->def->methods[2].name, "set:i");
	cr_assert_str_eq(o->def->methods[3].name, "get:d");
	cr_assert_eq(o->attrs[1], &a[0]);
	cr_assert_eq(o->attrs[2], &a[0]);
	cr_assert_eq(o->attrs[3], &a[1]);
	cr_assert_str_eq(o->sigs[2]->text, "value:int");
	cr_assert_eq(o->results[1]->kind, DOPY_INT);
	cr_assert_null(o->results[2]);
	cr_assert_str_eq(def.methods[0].name, "noop", "the user's table");
	cr_assert_null(def.methods[1].name, "is never written");
	/* More attributes later: the earlier ones stay. */
	cr_assert_eq(dopy_server_add_attrs(s, "obj", b), 0, "%s",
	    dopy_server_errmsg(s));
	cr_assert_eq(o->nmethods, 6);
	cr_assert_eq(o->attrs[1], &a[0]);
	cr_assert_eq(o->attrs[5], &b[0]);
	cr_assert_str_eq(o->def->methods[5].name, "set:name");
	dopy_server_free(s);
}

Test(attr_reg, refusals)
{
	struct dopy_attr a[3];

	memset(a, 0, sizeof(a));
	a[0] = (struct dopy_attr){ "i", "int", 1, 0, NULL, NULL, NULL };
	refused("nosuch", a, "no such object");
	a[0].name = "1x";
	refused("obj", a, "bad attribute name");
	a[0].name = "a:b";
	refused("obj", a, "bad attribute name");
	a[0].name = "";
	refused("obj", a, "bad attribute name");
	a[0].name = "i";
	a[0].type = "integer";
	refused("obj", a, "type");
	a[0].type = NULL;
	refused("obj", a, "type");
	a[0].type = "int";
	a[1] = a[0];
	refused("obj", a, "twice");
	a[1].name = NULL;
	a[0].type = "string";
	refused("obj", a, "needs get and set");
	a[0].type = "int[]";
	a[0].get = g_name;
	refused("obj", a, "needs get and set");
	a[0].writable = 0;
	a[0].set = s_name;
	refused("obj", a, "read-only");
	a[0] = (struct dopy_attr){ "i", "int", 0, 0, NULL, NULL, NULL };
	refused("nostate", a, "no state");
}

Test(attr_reg, collision)
{
	static const struct dopy_attr a[] = {
		{ "i", "int", 0, 0, NULL, NULL, NULL },
		END
	};
	dopy_server *s = server();

	cr_assert_eq(dopy_server_add_attrs(s, "obj", a), 0);
	cr_assert_eq(dopy_server_add_attrs(s, "obj", a), DOPY_E_USAGE);
	cr_assert_not_null(strstr(dopy_server_errmsg(s), "already"));
	cr_assert_eq(dopy_server_add_attrs(NULL, "obj", a), DOPY_E_INVAL);
	cr_assert_eq(dopy_server_add_attrs(s, "obj", NULL), DOPY_E_INVAL);
	dopy_server_free(s);
}

/* Functions only: no state needed. */
Test(attr_reg, functions_without_state)
{
	static const struct dopy_attr a[] = {
		{ "name", "string", 1, 0, g_name, s_name, NULL },
		END
	};
	dopy_server *s = server();

	cr_assert_eq(dopy_server_add_attrs(s, "nostate", a), 0, "%s",
	    dopy_server_errmsg(s));
	cr_assert_eq(dopy_server_find(s, "nostate")->nmethods, 3);
	dopy_server_free(s);
}

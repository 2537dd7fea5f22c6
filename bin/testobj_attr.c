/*
 * testobj_attr.c - the `thermo` object: attributes (dopy_server_add_attrs).
 * setpoint and on are members clients may write, temp is a member they
 * may only read, label is served by functions that check what is set.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "testobj.h"

struct thermo {
	int64_t	setpoint;
	double	temp;
	int	on;
	char	label[32];
};

/* One per process, and dopyd serves one connection per process. */
static struct thermo thermo = { 20, 18.5, 0, "hall" };

static int
thermo_describe(dopy_call *c)
{
	struct thermo *t = dopy_call_state(c);
	char buf[128];

	snprintf(buf, sizeof(buf), "%s: %s, setpoint %lld, temp %.1f",
	    t->label, t->on ? "on" : "off", (long long)t->setpoint, t->temp);
	return dopy_return_string(c, buf);
}

static int
get_label(dopy_call *c)
{
	struct thermo *t = dopy_call_state(c);

	return dopy_return_string(c, t->label);
}

static int
set_label(dopy_call *c, const dopy_value *v)
{
	struct thermo *t = dopy_call_state(c);
	const char *s = dopy_value_get_string(v);

	if (*s == '\0' || strlen(s) >= sizeof(t->label))
		return dopy_raise(c, "thermo.BadLabel", "a label has 1 to %zu "
		    "characters", sizeof(t->label) - 1);
	strlcpy(t->label, s, sizeof(t->label));
	return 0;
}

static const struct dopy_method thermo_methods[] = {
	{ "describe", thermo_describe, "", "string",
	    "The thermostat in one line." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def thermo_object = {
	"thermo", "A thermostat with attributes.", thermo_methods, NULL, NULL
};

static const struct dopy_attr thermo_attrs[] = {
	{ "setpoint", "int", 1, offsetof(struct thermo, setpoint), NULL, NULL,
	    "The temperature wanted." },
	{ "temp", "double", 0, offsetof(struct thermo, temp), NULL, NULL,
	    "The temperature measured (read-only)." },
	{ "on", "bool", 1, offsetof(struct thermo, on), NULL, NULL,
	    "Whether it heats." },
	{ "label", "string", 1, 0, get_label, set_label,
	    "Where it is, 1 to 31 characters." },
	{ NULL, NULL, 0, 0, NULL, NULL, NULL }
};

int
testobj_attr_add(dopy_server *s)
{
	int r;

	if ((r = dopy_server_add(s, &thermo_object, &thermo)) < 0)
		return r;
	return dopy_server_add_attrs(s, "thermo", thermo_attrs);
}

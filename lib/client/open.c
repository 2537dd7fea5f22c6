/*
 * open.c - the short client API: connect with one options structure,
 * a proxy from a target in one call, and a call in one line.
 *
 * The older connect functions (dopy_connect_key, _flags and the
 * dopy_target_ forms) remain for programs written against them; these
 * are what new code and the manual use.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

int
dopy_connect_with(const char *target, const struct dopy_connect_opts *o,
    dopy_conn **cp, dopy_error **ep)
{
	static const struct dopy_connect_opts none;
	dopy_key *loaded = NULL;
	const dopy_key *key;
	int r;

	*cp = NULL;
	if (o == NULL)
		o = &none;
	key = o->key;
	if (key == NULL && o->keyfile != NULL) {
		if ((r = dopy_key_load(o->keyfile, &loaded, ep)) < 0)
			return r;
		key = loaded;
	}
	r = dopy_connect_flags(target, key, o->flags, cp, ep);
	dopy_key_free(loaded);
	if (r < 0)
		return r;
	if (o->timeout_ms > 0)
		dopy_conn_set_timeout(*cp, o->timeout_ms);
	if (o->rebind_tries > 0)
		dopy_conn_set_rebind(*cp, o->rebind_tries, o->rebind_wait_ms);
	return 0;
}

/* The object a connected target names: a name: target's is known only
 * once it is resolved, which dopy_connect_flags() did. */
static char *
target_object(const dopy_conn *c)
{
	const char *obj = c->target != NULL ? dopy_target_object(c->target) :
	    NULL;

	return obj != NULL ? strdup(obj) : NULL;
}

int
dopy_open(const char *target, const char *object,
    const struct dopy_connect_opts *o, dopy_proxy **pp, dopy_error **ep)
{
	dopy_conn *c;
	char *obj;
	int r;

	*pp = NULL;
	if ((r = dopy_connect_with(target, o, &c, ep)) < 0)
		return r;
	obj = object != NULL ? strdup(object) : target_object(c);
	if (obj == NULL) {
		dopy_conn_close(c);
		return dopy_error_set(ep, object != NULL ? DOPY_E_NOMEM :
		    DOPY_E_USAGE, object != NULL ? "out of memory" :
		    "%s names no object, and none was given", target);
	}
	*pp = dopy_proxy_new(c, obj);
	free(obj);
	if (*pp == NULL) {
		dopy_conn_close(c);
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	}
	(*pp)->owns_conn = 1;
	return 0;
}

dopy_conn *
dopy_proxy_conn(const dopy_proxy *p)
{
	return p != NULL ? p->conn : NULL;
}

/* One argument of dopy_proxy_callf's list, as fmt's letter says. */
static dopy_value *
next_value(char letter, va_list *ap)
{
	const void *data;
	size_t len;

	switch (letter) {
	case 'i':
		return dopy_value_int(va_arg(*ap, int64_t));
	case 'u':
		return dopy_value_uint(va_arg(*ap, uint64_t));
	case 'd':
		return dopy_value_double(va_arg(*ap, double));
	case 'b':
		return dopy_value_bool(va_arg(*ap, int));
	case 's':
		return dopy_value_string(va_arg(*ap, const char *));
	case 'y':
		data = va_arg(*ap, const void *);
		len = va_arg(*ap, size_t);
		return dopy_value_bytes(data, len);
	case 'v':
		return va_arg(*ap, dopy_value *);
	default:
		return NULL;
	}
}

#define CALLF_NAME_MAX	63

/* The next item of fmt at *pp: its letter, and its name (or "") in name.
 * 0 at the end, -1 if fmt is bad there. */
static int
next_item(const char **pp, char name[CALLF_NAME_MAX + 1])
{
	const char *p = *pp + strspn(*pp, " ,");
	size_t n = strcspn(p, " ,=");

	name[0] = '\0';
	if (*p == '\0')
		return 0;
	if (p[n] == '=') {
		if (n == 0 || n > CALLF_NAME_MAX)
			return -1;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n + 1;
	}
	if (*p == '\0' || strchr("iudbsyv", *p) == NULL ||
	    (p[1] != '\0' && p[1] != ' ' && p[1] != ','))
		return -1;
	*pp = p + 1;
	return (unsigned char)*p;
}

/* Fill a from fmt: letters, each optionally after NAME=, blanks or
 * commas between them.  Every value is taken, so after an error the
 * rest of the list is still read and its dopy_value arguments freed. */
static int
fill_args(dopy_args *a, const char *fmt, va_list *ap, dopy_error **ep)
{
	char name[CALLF_NAME_MAX + 1];
	const char *p = fmt;
	size_t i = 0;
	int c, r = 0;

	while ((c = next_item(&p, name)) > 0) {
		i++;
		if (r < 0)
			dopy_value_free(next_value(c, ap));
		else if ((r = dopy_args_add(a, *name ? name : NULL,
		    next_value(c, ap))) < 0)
			r = dopy_error_set(ep, r, "callf: argument %zu of "
			    "\"%s\" not added", i, fmt);
	}
	if (c < 0 && r == 0)
		r = dopy_error_set(ep, DOPY_E_INVAL, "callf: bad format "
		    "\"%s\" after argument %zu", fmt, i);
	return r;
}

int
dopy_proxy_callf(dopy_proxy *p, const char *method, dopy_value **result,
    dopy_error **ep, const char *fmt, ...)
{
	dopy_args *a;
	va_list ap;
	int r;

	if (result != NULL)
		*result = NULL;
	if (fmt == NULL)
		fmt = "";
	if ((a = dopy_args_new()) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	va_start(ap, fmt);
	r = fill_args(a, fmt, &ap, ep);
	va_end(ap);
	if (r == 0)
		r = dopy_proxy_call(p, method, a, result, ep);
	dopy_args_free(a);
	return r;
}

/*
 * naming.c - the naming service (DOPY's StandardNamingContext, Pyro's
 * Name Server): dotted names in groups, each bound to a target string,
 * an object key and free-form metadata.
 *
 * Each name is a file under the store ("a.b.c" is a/b/c), written whole
 * and atomically by store.c, so every connection process sees every
 * other's updates at once and no update is lost or torn: bind creates
 * with link(2) (the first binder wins), rebind replaces with rename(2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "store/store.h"

#define NAME_ERR	"naming.BadName"

struct naming {
	struct dopy_store	 st;
	dopy_type		*entry;		/* (string,string,string) */
};

/* ":Test.MyObject" or "Test.MyObject" -> "Test/MyObject". */
static int
name_path(dopy_call *c, const char *name, char *path, size_t len)
{
	char err[256], raw[1100];
	size_t i, n;

	if (*name == ':')
		name++;
	n = strlen(name);
	if (n == 0 || n >= len || n >= sizeof(raw) || name[0] == '.' ||
	    name[n - 1] == '.' ||
	    strstr(name, "..") != NULL || strchr(name, '/') != NULL)
		return dopy_raise(c, NAME_ERR, "bad name '%s': dotted words "
		    "of letters, digits, _ and -", name);
	for (i = 0; i <= n; i++)
		raw[i] = name[i] == '.' ? '/' : name[i];
	if (dopy_store_path(raw, path, len, err, sizeof(err)) < 0)
		return dopy_raise(c, NAME_ERR, "bad name '%s': %s", name, err);
	return 0;
}

static int
store_error(dopy_call *c, int r, const char *name, const char *err)
{
	char bound[256], *s;

	/* "a.b" asked for while "a" is bound: a names a target, it holds
	 * no names (a StoreError, as dopy-naming(7) has it). */
	if (r == DOPY_S_NOTDIR) {
		strlcpy(bound, err, sizeof(bound));
		for (s = bound; *s != '\0'; s++)
			if (*s == '/')
				*s = '.';
		return dopy_raise(c, "naming.StoreError", "%s: %s is a name, "
		    "not a group", name, bound);
	}
	if (r == DOPY_S_EXISTS)
		return dopy_raise(c, "naming.Exists", "%s is already bound",
		    name);
	if (r == DOPY_S_NOTFOUND)
		return dopy_raise(c, "naming.NotFound", "%s is not bound",
		    name);
	return dopy_raise(c, r == DOPY_E_USAGE ? NAME_ERR :
	    "naming.StoreError", "%s: %s", name, err);
}

static int
put_entry(dopy_call *c, int excl)
{
	struct naming *ns = dopy_call_state(c);
	const char *name = dopy_call_string(c, 0);
	char path[1100], err[256];
	struct dopy_buf b;
	dopy_value *v;
	size_t i;
	int r;

	if (name_path(c, name, path, sizeof(path)) < 0)
		return DOPY_E_REMOTE;
	if (*dopy_call_string(c, 1) == '\0')
		return dopy_raise(c, NAME_ERR, "%s: empty target", name);
	/* Clients resolve a name once and refuse a name: entry, so one
	 * would only ever fail (a loop would run for ever if followed). */
	if (strncmp(dopy_call_string(c, 1), "name:", 5) == 0)
		return dopy_raise(c, NAME_ERR, "%s: the target %s is another "
		    "name, and names do not chain", name,
		    dopy_call_string(c, 1));
	if ((v = dopy_value_new(ns->entry)) == NULL)
		return dopy_raise(c, "dopy.InternalError", "out of memory");
	for (i = 0; i < 3; i++)
		dopy_value_set_field(v, i, dopy_value_copy(dopy_call_arg(c,
		    i + 1)));
	dopy_buf_init(&b);
	r = dopy_encode(v, &b);
	dopy_value_free(v);
	if (r == 0)
		r = dopy_store_write(&ns->st, path, b.data, b.len, excl, err,
		    sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", dopy_strerror(r));
	dopy_buf_release(&b);
	return r < 0 ? store_error(c, r, name, err) : 0;
}

static int
n_bind(dopy_call *c)
{
	return put_entry(c, 1);
}

static int
n_rebind(dopy_call *c)
{
	return put_entry(c, 0);
}

static int
n_resolve(dopy_call *c)
{
	struct naming *ns = dopy_call_state(c);
	const char *name = dopy_call_string(c, 0);
	char path[1100], err[256];
	struct dopy_image img[2];
	struct dopy_buf b;
	dopy_value *v = NULL;
	size_t n;
	int r;

	if (name_path(c, name, path, sizeof(path)) < 0)
		return DOPY_E_REMOTE;
	dopy_buf_init(&b);
	if ((r = dopy_store_read(&ns->st, path, &b, err, sizeof(err))) < 0) {
		dopy_buf_release(&b);
		return store_error(c, r, name, err);
	}
	if (dopy_images_split(b.data, b.len, img, 2, &n, err,
	    sizeof(err)) < 0 || n != 1 ||
	    dopy_decode(&img[0], ns->entry, &v, err, sizeof(err)) < 0) {
		dopy_buf_release(&b);
		return dopy_raise(c, "naming.Corrupt", "%s: the stored entry "
		    "is corrupt (%s)", name, n != 1 ? "not one value" : err);
	}
	dopy_buf_release(&b);
	return dopy_call_return(c, v);
}

static int
n_unbind(dopy_call *c)
{
	struct naming *ns = dopy_call_state(c);
	const char *name = dopy_call_string(c, 0);
	char path[1100], err[256];
	int r;

	if (name_path(c, name, path, sizeof(path)) < 0)
		return DOPY_E_REMOTE;
	if ((r = dopy_store_remove(&ns->st, path, err, sizeof(err))) < 0)
		return store_error(c, r, name, err);
	return 0;
}

/* Paths back to dotted names; a group ("a/b/") becomes "a.b.". */
static int
n_list(dopy_call *c)
{
	struct naming *ns = dopy_call_state(c);
	const char *group = dopy_call_string(c, 0);
	char path[1100] = "", err[200], g[1100], *s;
	dopy_value *out;
	size_t i, gl;
	int r;

	/* "Test." as list prints it names the group Test. */
	strlcpy(g, group, sizeof(g));
	if ((gl = strlen(g)) > 1 && g[gl - 1] == '.')
		g[gl - 1] = '\0';
	if (*g != '\0' && !(*g == ':' && g[1] == '\0') &&
	    name_path(c, g, path, sizeof(path)) < 0)
		return DOPY_E_REMOTE;
	if ((out = dopy_value_new(c->obj->results[c->midx])) == NULL)
		return dopy_raise(c, "dopy.InternalError", "out of memory");
	if ((r = dopy_store_list(&ns->st, path, dopy_call_bool(c, 1), out,
	    err, sizeof(err))) < 0) {
		dopy_value_free(out);
		return store_error(c, r, group, err);
	}
	for (i = 0; i < out->u.a.n; i++)
		for (s = out->u.a.v[i]->u.s.p; *s != '\0'; s++)
			if (*s == '/')
				*s = '.';
	return dopy_call_return(c, out);
}

static const struct dopy_method naming_methods[] = {
	{ "bind", n_bind, "name:string, target:string, object:string=, "
	    "meta:string=", NULL,
	    "Bind a new name; naming.Exists if it is bound already." },
	{ "rebind", n_rebind, "name:string, target:string, object:string=, "
	    "meta:string=", NULL, "Bind a name, replacing what it had." },
	{ "resolve", n_resolve, "name:string", "(string,string,string)",
	    "The target, object key and metadata bound to a name." },
	{ "unbind", n_unbind, "name:string", NULL, "Remove a name." },
	{ "list", n_list, "group:string=, recursive:bool=false", "string[]",
	    "Names in a group (groups end in '.'); recursive: all names." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def naming_def = {
	"naming", "The naming service: dotted names bound to targets.",
	naming_methods, NULL, NULL
};

static void
naming_free(void *p)
{
	struct naming *ns = p;

	dopy_store_close(&ns->st);
	dopy_type_free(ns->entry);
	free(ns);
}

int
dopy_server_add_naming(dopy_server *s, const char *dir)
{
	struct naming *ns;
	char err[200];
	int r;

	if ((ns = calloc(1, sizeof(*ns))) == NULL)
		return DOPY_E_NOMEM;
	ns->st.dirfd = -1;
	if ((r = dopy_store_open(dir, &ns->st, err, sizeof(err))) < 0 ||
	    (ns->entry = dopy_type_parse("(string,string,string)", err,
	    sizeof(err))) == NULL ||
	    (r = dopy_server_add(s, &naming_def, ns)) < 0) {
		if (r < 0 && s->errmsg[0] == '\0')
			snprintf(s->errmsg, sizeof(s->errmsg), "naming: %s",
			    err);
		naming_free(ns);
		return r < 0 ? r : DOPY_E_NOMEM;
	}
	return dopy_server_own(s, ns, naming_free);
}

/* TEMPORARY, not to be committed */
#include "internal.h"
__attribute__((weak)) int dopy_session_callback(struct dopy_session *s, const char *o, const char *m, const dopy_args *a, dopy_value **r, dopy_error **ep) { (void)s;(void)o;(void)m;(void)a;(void)r; return dopy_error_set(ep, DOPY_E_INVAL, "stub"); }
__attribute__((weak)) uint32_t dopy_value_get_ref(const dopy_value *v) { (void)v; return 0; }

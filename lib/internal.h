/*
 * internal.h - every layer's private header at once, for the tests
 * only (tests/ build with -Ilib and include "internal.h").  The library
 * itself never includes this: each file under lib/ includes the header
 * of its own layer and of the layers below it that it uses.
 *
 *	wire/wire.h	bytes, frames, values, messages (the bottom)
 *	client/client.h	connections, proxies, futures, targets
 *	server/server.h	objects, dispatch, sessions, callbacks, log
 *	store/store.h	the shared file tree, pstruct
 *	tools/tools.h	dopy_main's options, listener, names, console
 *
 * Never installed.
 */
#ifndef DOPY_INTERNAL_H
#define DOPY_INTERNAL_H

#include "wire/wire.h"
#include "client/client.h"
#include "server/server.h"
#include "store/store.h"
#include "tools/tools.h"

#endif /* DOPY_INTERNAL_H */

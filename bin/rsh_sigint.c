/*
 * rsh_sigint.c - Ctrl-C during a one-shot call: before dopy-rsh dies of
 * the signal, it asks the server to stop the call (a CANCEL frame), so
 * a server on a socket does not run on for nobody.  The handler only
 * writes to a pipe; a thread of ours reads it, sends the CANCEL (the
 * library is thread-safe, signal handlers are not), and lets the signal
 * take its default course.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "dopy.h"
#include "rsh.h"

static int		 sigpipe[2] = { -1, -1 };
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static dopy_future	*waiting;	/* the call to cancel, or NULL */

static void
on_sigint(int sig)
{
	int saved = errno;

	(void)sig;
	(void)write(sigpipe[1], "", 1);
	errno = saved;
}

static void *
canceller(void *arg)
{
	char ch;

	(void)arg;
	while (read(sigpipe[0], &ch, 1) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&lock);	/* kept: the future stays ours */
	if (waiting != NULL)
		(void)dopy_future_cancel(waiting, NULL);
	signal(SIGINT, SIG_DFL);
	kill(getpid(), SIGINT);
	return NULL;
}

/* The handler and its thread, once; -1 when they cannot be had (the
 * signal then kills as it always did). */
static int
arm(void)
{
	static int armed;
	struct sigaction sa;
	pthread_attr_t attr;
	pthread_t t;

	if (armed)
		return armed > 0 ? 0 : -1;
	armed = -1;
	if (pipe2(sigpipe, O_CLOEXEC) < 0 || pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, canceller, NULL) != 0) {
		pthread_attr_destroy(&attr);
		return -1;
	}
	pthread_attr_destroy(&attr);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;	/* the wait goes on meanwhile */
	sigaction(SIGINT, &sa, NULL);
	armed = 1;
	return 0;
}

int
rsh_oneshot_wait(dopy_conn *conn, dopy_future *f, dopy_value **result,
    dopy_error **ep)
{
	int r;

	(void)conn;
	pthread_mutex_lock(&lock);
	waiting = arm() == 0 ? f : NULL;
	pthread_mutex_unlock(&lock);
	r = dopy_future_wait(f, result, ep);
	pthread_mutex_lock(&lock);
	waiting = NULL;
	pthread_mutex_unlock(&lock);
	return r;
}

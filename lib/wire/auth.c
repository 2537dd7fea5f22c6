/*
 * auth.c - the shared-key challenge-response inside HELLO (dopy(5)).
 *
 * Both sides hold a key file.  The client sends a fresh nonce Nc in its
 * HELLO; the server answers with its nonce Ns and
 *	HMAC-SHA256(key, "dopy-auth-1 server" NUL Nc Ns),
 * the client checks it and sends an AUTH frame with
 *	HMAC-SHA256(key, "dopy-auth-1 client" NUL Nc Ns).
 * Binding the role and both nonces into each MAC makes a reflected or
 * replayed answer fail; the key never crosses the wire.  The primitives
 * are libsodium's, compared in constant time.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire/wire.h"

#define KEY_MIN		16
#define KEY_MAX		4096

static int
sodium_ready(void)
{
	return sodium_init() >= 0 ? 0 : DOPY_E_SYS;
}

void
dopy_key_free(dopy_key *k)
{
	if (k == NULL)
		return;
	if (k->bytes != NULL) {
		sodium_memzero(k->bytes, k->len);
		free(k->bytes);
	}
	free(k);
}

/* A private copy, for a connection that may have to dial again. */
dopy_key *
dopy_key_dup(const dopy_key *k)
{
	dopy_key *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->bytes = malloc(k->len)) == NULL) {
		free(d);
		return NULL;
	}
	memcpy(d->bytes, k->bytes, k->len);
	d->len = k->len;
	return d;
}

/* The key file must be private to its owner, like an ssh identity. */
static int
check_mode(int fd, const char *path, dopy_error **ep)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return dopy_error_set(ep, DOPY_E_SYS, "%s: %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return dopy_error_set(ep, DOPY_E_USAGE, "%s: not a regular "
		    "file", path);
	if (st.st_mode & 077)
		return dopy_error_set(ep, DOPY_E_USAGE, "%s: key file is "
		    "readable by others (mode %03o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
	return 0;
}

int
dopy_key_load(const char *path, dopy_key **kp, dopy_error **ep)
{
	uint8_t buf[KEY_MAX + 1];
	dopy_key *k;
	ssize_t n;
	size_t len = 0;
	int fd, r;

	*kp = NULL;
	if ((r = sodium_ready()) < 0)
		return dopy_error_set(ep, r, "libsodium failed to start");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return dopy_error_set(ep, DOPY_E_SYS, "%s: %s", path,
		    strerror(errno));
	if ((r = check_mode(fd, path, ep)) < 0) {
		close(fd);
		return r;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len,
	    sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len < KEY_MIN || len > KEY_MAX) {
		sodium_memzero(buf, sizeof(buf));
		return dopy_error_set(ep, DOPY_E_USAGE, "%s: a key must be "
		    "%d to %d bytes (try: head -c 32 /dev/urandom > %s)",
		    path, KEY_MIN, KEY_MAX, path);
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->bytes = malloc(len)) == NULL) {
		free(k);
		sodium_memzero(buf, sizeof(buf));
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	}
	memcpy(k->bytes, buf, len);
	k->len = len;
	sodium_memzero(buf, sizeof(buf));
	*kp = k;
	return 0;
}

void
dopy_auth_nonce(uint8_t nonce[DOPY_NONCE_LEN])
{
	randombytes_buf(nonce, DOPY_NONCE_LEN);
}

int
dopy_auth_mac(const dopy_key *k, const char *role,
    const uint8_t nc[DOPY_NONCE_LEN], const uint8_t ns[DOPY_NONCE_LEN],
    uint8_t mac[DOPY_MAC_LEN])
{
	crypto_auth_hmacsha256_state st;
	char label[32];
	int n;

	if (sodium_ready() < 0)
		return DOPY_E_SYS;
	n = snprintf(label, sizeof(label), "dopy-auth-1 %s", role);
	crypto_auth_hmacsha256_init(&st, k->bytes, k->len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)label,
	    (unsigned long long)n + 1);
	crypto_auth_hmacsha256_update(&st, nc, DOPY_NONCE_LEN);
	crypto_auth_hmacsha256_update(&st, ns, DOPY_NONCE_LEN);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int
dopy_auth_verify(const dopy_key *k, const char *role,
    const uint8_t nc[DOPY_NONCE_LEN], const uint8_t ns[DOPY_NONCE_LEN],
    const uint8_t mac[DOPY_MAC_LEN])
{
	uint8_t want[DOPY_MAC_LEN];
	int r;

	if ((r = dopy_auth_mac(k, role, nc, ns, want)) < 0)
		return r;
	r = sodium_memcmp(want, mac, DOPY_MAC_LEN) == 0 ? 0 : DOPY_E_AUTH;
	sodium_memzero(want, sizeof(want));
	return r;
}


/*
 * tls - server-side TLS.  The manual is in tls.h.
 *
 * The context is swapped, never changed in place: OpenSSL's SSL objects
 * hold a reference to the SSL_CTX they were made from, so freeing our
 * reference on reload leaves running sessions their old certificate and
 * frees the old context with the last of them.
 *
 * Renegotiation is off (a client-initiated renegotiation is a cheap way
 * to make a server burn CPU) and so is TLS compression (CRIME).
 */
#include "common/tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/attr.h"
#include "common/buf.h"
#include "common/channel.h"
#include "common/config.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/service.h"

#define PEM_MAX (256 * 1024)	/* a certificate chain is a few KB */

struct tls_server {
	SSL_CTX *ctx;
};

/* OpenSSL's first queued reason, or a fallback. */
static const char *
ssl_reason(const char *fallback)
{
	static char msg[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return fallback;
	ERR_error_string_n(e, msg, sizeof msg);
	ERR_clear_error();
	return msg;
}

static SSL_CTX *
ctx_base(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", ssl_reason("failed"));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Idle sessions give their 34 KB of record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_cipher_list(ctx, "HIGH:!aNULL:!MD5:!RC4:!3DES:!CAMELLIA");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"postern", 7);
	return ctx;
}

static SSL_CTX *
ctx_from_files(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (cert == NULL || key == NULL || !*cert || !*key) {
		snprintf(err, errlen, "tls_cert_file and tls_key_file are not set");
		return NULL;
	}
	if ((ctx = ctx_base(err, errlen)) == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "%s: %s", cert, ssl_reason("cannot load"));
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "%s: %s", key, ssl_reason("cannot load"));
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s does not match %s", key, cert);
	} else
		return ctx;
	SSL_CTX_free(ctx);
	return NULL;
}

/* The chain: the first certificate is ours, the rest go along with it. */
static int
ctx_use_chain_pem(SSL_CTX *ctx, const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	int ok = 0;

	if (bio == NULL)
		return 0;
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) != NULL) {
		ok = SSL_CTX_use_certificate(ctx, x) == 1;
		X509_free(x);
		SSL_CTX_clear_chain_certs(ctx);
		while (ok && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
				X509_free(x);
				ok = 0;
			}
		ERR_clear_error();	/* the end of the PEM text */
	}
	BIO_free(bio);
	return ok;
}

static int
ctx_use_key_pem(SSL_CTX *ctx, const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k;
	int ok = 0;

	if (bio == NULL)
		return 0;
	if ((k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL) {
		ok = SSL_CTX_use_PrivateKey(ctx, k) == 1;
		EVP_PKEY_free(k);
	}
	BIO_free(bio);
	return ok;
}

static SSL_CTX *
ctx_from_pem(const char *cert, size_t cert_len, const char *key,
    size_t key_len, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (cert_len > PEM_MAX || key_len > PEM_MAX) {
		snprintf(err, errlen, "certificate or key text too long");
		return NULL;
	}
	if ((ctx = ctx_base(err, errlen)) == NULL)
		return NULL;
	if (!ctx_use_chain_pem(ctx, cert, cert_len))
		snprintf(err, errlen, "certificate: %s", ssl_reason("no PEM certificate"));
	else if (!ctx_use_key_pem(ctx, key, key_len))
		snprintf(err, errlen, "key: %s", ssl_reason("no PEM private key"));
	else if (SSL_CTX_check_private_key(ctx) != 1)
		snprintf(err, errlen, "the key does not match the certificate");
	else
		return ctx;
	SSL_CTX_free(ctx);
	return NULL;
}

static struct tls_server *
server_wrap(SSL_CTX *ctx)
{
	struct tls_server *ts;

	if (ctx == NULL)
		return NULL;
	ts = xcalloc(1, sizeof *ts);
	ts->ctx = ctx;
	return ts;
}

struct tls_server *
tls_server_new(const char *cert_file, const char *key_file, char *err,
    size_t errlen)
{
	return server_wrap(ctx_from_files(cert_file, key_file, err, errlen));
}

struct tls_server *
tls_server_new_pem(const char *cert_pem, size_t cert_len, const char *key_pem,
    size_t key_len, char *err, size_t errlen)
{
	return server_wrap(ctx_from_pem(cert_pem, cert_len, key_pem, key_len,
	    err, errlen));
}

/* Inside a jail: the master reads the files for us. */
static SSL_CTX *
ctx_from_master(char *err, size_t errlen)
{
	struct buf req = BUF_INIT, frame = BUF_INIT;
	struct attr_list *reply = xmalloc(sizeof *reply);
	const struct attr *cert, *key;
	SSL_CTX *ctx = NULL;
	int fd = -1;

	attr_put(&req, "op", "tls");
	if (service_call_master(&req, &frame, reply, &fd) < 0)
		snprintf(err, errlen, "cannot ask the master for the "
		    "certificate: %s", strerror(errno));
	else if ((cert = attr_find(reply, "cert")) == NULL ||
	    (key = attr_find(reply, "key")) == NULL)
		snprintf(err, errlen, "the master sent no certificate (%s)",
		    attr_get(reply, "reason") ? attr_get(reply, "reason") : "?");
	else
		ctx = ctx_from_pem(cert->value, cert->len, key->value, key->len,
		    err, errlen);
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(frame.data, frame.len);
	free(reply);
	buf_free(&req);
	buf_free(&frame);
	return ctx;
}

int
tls_server_reload(struct tls_server *ts, const struct service *svc,
    const struct config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (svc != NULL && svc->chrooted)
		ctx = ctx_from_master(err, errlen);
	else
		ctx = ctx_from_files(cfg->tls_cert_file, cfg->tls_key_file,
		    err, errlen);
	if (ctx == NULL)
		return -1;
	SSL_CTX_free(ts->ctx);	/* live sessions keep their reference */
	ts->ctx = ctx;
	return 0;
}

void
tls_server_free(struct tls_server *ts)
{
	if (ts == NULL)
		return;
	SSL_CTX_free(ts->ctx);
	free(ts);
}

static struct bufferevent *
ssl_bev(struct tls_server *ts, struct event_base *base, int fd)
{
	struct bufferevent *bev;
	SSL *ssl = SSL_new(ts->ctx);

	if (ssl == NULL) {
		log_warn("SSL_new: %s", ssl_reason("failed"));
		close(fd);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warn("cannot make a TLS bufferevent");
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	/* A close without close_notify is normal from mail clients. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct bufferevent *
tls_accept(struct tls_server *ts, struct event_base *base, int fd)
{
	return ssl_bev(ts, base, fd);
}

struct bufferevent *
tls_starttls(struct tls_server *ts, struct bufferevent *plain)
{
	struct event_base *base = bufferevent_get_base(plain);
	int fd = (int)bufferevent_getfd(plain);

	/* CVE-2011-0411: whatever came before the handshake is dropped. */
	evbuffer_drain(bufferevent_get_input(plain),
	    evbuffer_get_length(bufferevent_get_input(plain)));
	bufferevent_setcb(plain, NULL, NULL, NULL, NULL);
	bufferevent_disable(plain, EV_READ | EV_WRITE);
	bufferevent_setfd(plain, -1);	/* so freeing it keeps the fd */
	bufferevent_free(plain);
	return ssl_bev(ts, base, fd);
}

int
tls_is_active(struct bufferevent *bev)
{
	return bufferevent_openssl_get_ssl(bev) != NULL;
}

void
tls_describe(struct bufferevent *bev, char *out, size_t outlen)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	const SSL_CIPHER *c;
	int alg = 0, bits;

	if (ssl == NULL || (c = SSL_get_current_cipher(ssl)) == NULL) {
		snprintf(out, outlen, "%s", "");
		return;
	}
	bits = SSL_CIPHER_get_bits(c, &alg);
	snprintf(out, outlen, "%s with cipher %s (%d/%d bits)",
	    SSL_get_version(ssl), SSL_CIPHER_get_name(c), bits, alg);
}

const char *
tls_error_string(struct bufferevent *bev)
{
	static char msg[256];
	unsigned long e;

	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, msg, sizeof msg);
		ERR_clear_error();
		return msg;
	}
	return ssl_reason("connection closed during the handshake");
}

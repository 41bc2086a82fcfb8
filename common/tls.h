/*
 * tls - server-side TLS for smtpd, pop3d and imapd (OpenSSL 3 under
 * libevent bufferevents).
 *
 * SYNOPSIS
 *	// at start-up, BEFORE service_drop() (the key is read from disk):
 *	char err[512];
 *	struct tls_server *ts = tls_server_new(cfg->tls_cert_file,
 *	    cfg->tls_key_file, err, sizeof err);
 *	if (ts == NULL) fatal("%s", err);	// or run without TLS
 *
 *	// implicit TLS (465, 995, 993): a new connection's fd
 *	struct bufferevent *bev = tls_accept(ts, base, fd);
 *
 *	// STARTTLS / STLS: once the "ready to start TLS" reply has been
 *	// written out completely (output buffer empty):
 *	bev = tls_starttls(ts, bev);	// old bev freed, fd kept
 *	// ...then reset the protocol state (RFC 3207 4.2).
 *
 *	// both: set callbacks as for a socket bufferevent; BEV_EVENT_
 *	// CONNECTED arrives when the handshake has finished, BEV_EVENT_ERROR
 *	// if it fails (tls_error_string() says why).
 *
 *	char desc[TLS_DESC_MAX];
 *	tls_describe(bev, desc, sizeof desc);
 *	//  "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
 *
 *	// SIGHUP:
 *	if (tls_server_reload(ts, svc, &fresh_cfg, err, sizeof err) < 0)
 *		log_warn("%s; keeping the old certificate", err);
 *	tls_server_free(ts);
 *
 * DESCRIPTION
 *	A tls_server holds the current SSL_CTX: the certificate chain and
 *	key of tls_cert_file/tls_key_file, TLS 1.2 and 1.3 only, no
 *	renegotiation, no compression, the server's cipher preference,
 *	buffers released while a connection is idle (a few KB per idle TLS
 *	session).  tls_server_new() checks that the key matches the
 *	certificate.
 *
 *	Reload: tls_server_reload() builds a new SSL_CTX and swaps it in.
 *	Connections already open keep a reference to the context they were
 *	made with and go on undisturbed; only new ones use the new
 *	certificate.  When the new files do not load, nothing changes and
 *	-1 is returned.  Outside a jail the files are read again; inside one
 *	(svc->chrooted) they are out of reach, so the PEM text is asked from
 *	the master over the master channel (op=tls -> status=ok cert=PEM
 *	key=PEM); a master that does not answer it makes the reload fail
 *	with a message, never the process.
 *
 *	tls_accept() wraps a freshly accepted fd (implicit TLS, RFC 8314).
 *	tls_starttls() switches a plaintext socket bufferevent to TLS:
 *	every byte the client sent before the handshake that is still
 *	buffered in user space is thrown away (CVE-2011-0411: commands
 *	injected behind STARTTLS must never be executed as if they came
 *	over TLS), the old bufferevent is freed without closing the fd, and
 *	a TLS bufferevent in the accepting state takes its place.  Its
 *	options are BEV_OPT_CLOSE_ON_FREE.  The
 *	caller must have flushed its output first (the plaintext reply to
 *	STARTTLS), and must reset its session state itself: tls_starttls
 *	knows nothing of the protocol.  Both return NULL only when OpenSSL
 *	cannot make a session (logged); the fd is then closed.
 *
 *	tls_describe() writes "PROTOCOL with cipher NAME (BITS/BITS bits)"
 *	for logs and Received headers, or "" for a plaintext bufferevent.
 *	tls_is_active() tells the two apart.
 *
 * DIAGNOSTICS
 *	Functions with an err parameter put one line there (file name and
 *	OpenSSL's reason); nothing is logged by them.  tls_error_string()
 *	gives OpenSSL's reason for a failed handshake on bev (and clears
 *	the error queue).
 *
 * SEE ALSO
 *	RFC 3207 (SMTP STARTTLS), RFC 2595 (POP3 STLS, IMAP STARTTLS),
 *	RFC 8314 (implicit TLS), PRIVSEP.md (read the key before the drop).
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct service;
struct config;
struct tls_server;

#define TLS_DESC_MAX 160

struct tls_server *tls_server_new(const char *cert_file, const char *key_file,
    char *err, size_t errlen);
/* The same from PEM text in memory (what the master sends to a jail). */
struct tls_server *tls_server_new_pem(const char *cert_pem, size_t cert_len,
    const char *key_pem, size_t key_len, char *err, size_t errlen);
/* Loads cfg's tls_cert_file/tls_key_file again (see DESCRIPTION). */
int tls_server_reload(struct tls_server *ts, const struct service *svc,
    const struct config *cfg, char *err, size_t errlen);
void tls_server_free(struct tls_server *ts);

struct bufferevent *tls_accept(struct tls_server *ts, struct event_base *base,
    int fd);
struct bufferevent *tls_starttls(struct tls_server *ts,
    struct bufferevent *plain);

int tls_is_active(struct bufferevent *bev);
void tls_describe(struct bufferevent *bev, char *out, size_t outlen);
const char *tls_error_string(struct bufferevent *bev);

#endif

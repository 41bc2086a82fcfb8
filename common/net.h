/*
 * net - sockets: listening, connecting, and naming peers.
 *
 * DESCRIPTION
 *	net_listen_tcp() takes "HOST:PORT" or "[V6]:PORT" and returns a
 *	non-blocking listening socket with SO_REUSEADDR, or -1 with a message
 *	in err.  net_listen_unix() removes a stale socket file first.
 *	net_peer_addr() writes the peer's numeric address ("127.0.0.1",
 *	"::1") or "unix" for AF_UNIX.
 */
#ifndef POSTERN_NET_H
#define POSTERN_NET_H

#include <stddef.h>
#include <sys/types.h>

#define NET_ADDR_MAX 64

int net_listen_tcp(const char *hostport, char *err, size_t errlen);
int net_listen_unix(const char *path, mode_t mode, char *err, size_t errlen);
int net_connect_unix(const char *path);
int net_connect_tcp(const char *host, const char *port, int timeout_ms);
int net_set_nonblock(int fd);
void net_peer_addr(int fd, char *out, size_t outlen);
int net_addr_is_loopback(const char *numeric_addr);

#endif

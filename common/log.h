/*
 * log - one line per event, to syslog or to stderr.
 *
 * SYNOPSIS
 *	log_init("smtpd");
 *	log_info("%s: to=<%s>, status=sent", id, rcpt);
 *	log_warn("cannot open %s: %s", path, strerror(errno));
 *	fatal("config: %s", err);	// environment broken: exit(1), master restarts us
 *	panic("impossible state %d", s);	// invariant broken: abort()
 *
 * DESCRIPTION
 *	Lines go to stderr when the environment variable POSTERN_LOG_STDERR is
 *	set (the master sets it in the foreground, so its children inherit it),
 *	else to syslog facility mail.  log_init() opens the syslog socket at
 *	once, so call it before chroot.  Each line is prefixed by
 *	"postern/NAME[PID]: ".  Every error is logged once, by the code that can
 *	act on it.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>

void log_init(const char *name);
const char *log_name(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/*
 * log - see log.h.  stderr lines carry a timestamp; syslog adds its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static char log_ident[64] = "postern";
static int log_to_stderr = 1;
static int log_debug_on;

void
log_init(const char *name)
{
	snprintf(log_ident, sizeof log_ident, "postern/%s", name);
	log_to_stderr = getenv("POSTERN_LOG_STDERR") != NULL;
	log_debug_on = getenv("POSTERN_LOG_DEBUG") != NULL;
	if (!log_to_stderr)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

const char *
log_name(void)
{
	return log_ident;
}

static void
log_emit(int priority, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;

	vsnprintf(line, sizeof line, fmt, ap);
	if (log_to_stderr) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof when, "%b %d %H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%d]: %s%s\n", when,
		    ts.tv_nsec / 1000000, log_ident, (int)getpid(),
		    priority == LOG_WARNING ? "warning: " :
		    priority <= LOG_ERR ? "fatal: " : "", line);
	} else {
		syslog(priority, "%s%s", priority == LOG_WARNING ?
		    "warning: " : priority <= LOG_ERR ? "fatal: " : "", line);
	}
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, fmt, ap);
	va_end(ap);
	abort();
}

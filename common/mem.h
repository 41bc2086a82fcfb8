/*
 * mem - allocation that never returns NULL, and a per-session arena.
 *
 * DESCRIPTION
 *	x*() allocate or panic: out of memory aborts the process and the
 *	master restarts it (the queue is on disk), so no caller checks.
 *
 *	An arena is an alloc-only pool: everything allocated from it is freed
 *	by one arena_free(), which makes the owner of a session's or a
 *	request's memory obvious.
 */
#ifndef POSTERN_MEM_H
#define POSTERN_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct arena;

struct arena *arena_new(void);
void *arena_alloc(struct arena *a, size_t n);	/* zeroed, 16-aligned */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a);

#endif

/*
 * fuzz_queue_file - the queue-file reader on arbitrary files: no crash,
 * and an accepted file's offsets lie inside the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/queue_file.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct queue_envelope env;
	struct arena *a = arena_new();
	char err[256];

	if (fd < 0 && (fd = memfd_create("queue-file", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (queue_file_read(fd, a, &env, err, sizeof err) == 0) {
		if (env.body_offset < 0 || (size_t)env.body_offset > size ||
		    (size_t)(env.body_offset + env.body_size) != size)
			abort();
		for (size_t i = 0; i < env.nrcpt; i++)
			if (env.rcpt[i].status_offset <= 0 ||
			    (size_t)env.rcpt[i].status_offset >= size)
				abort();
	}
	arena_free(a);
	return 0;
}

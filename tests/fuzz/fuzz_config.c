/*
 * fuzz_config - postern.conf parsing from text: no crash, no leak, and an
 * accepted config passes its own checks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];

	if (config_load_text(&cfg, "/fuzz/postern.conf", (const char *)data, size,
	    err, sizeof err) == 0) {
		if (cfg.retry_max < cfg.retry_min || cfg.smtpd_workers < 1)
			abort();
		config_free(&cfg);
	}
	return 0;
}

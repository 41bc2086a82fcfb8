/*
 * test_config - postern.conf parsing: defaults, units, relative paths,
 * and refusal of unknown keys, repeated keys and bad values with FILE:LINE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"

static char *
write_temp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/postern-test-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int
load(const char *text, struct config *cfg, char *err, size_t errlen)
{
	char *path = write_temp(text);
	int rc = config_load(cfg, path, err, errlen);

	unlink(path);
	return rc;
}

static void
defaults_hold_when_file_is_empty(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load("# nothing\n\n", &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.retry_min, 300);
	assert_int_equal(cfg.retry_max, 1800);
	assert_int_equal(cfg.queue_lifetime, 5 * 86400);
	assert_int_equal(cfg.message_size_limit, 50ull * 1024 * 1024);
	assert_string_equal(cfg.smtp_listen, "0.0.0.0:25");
	assert_true(cfg.myhostname[0] != '\0');
	config_free(&cfg);
}

static void
values_with_units_and_comments(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load("retry_min = 30s\nretry_max=2h   # trailing text is not a comment?\n", &cfg,
	    err, sizeof err), -1);
	assert_int_equal(load("  retry_min = 30s\n\tretry_max=2h\nqueue_lifetime = 1d\n"
	    "message_size_limit = 10m\n# c\nsmtpd_workers = 3\ndev_mode = yes\n",
	    &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.retry_min, 30);
	assert_int_equal(cfg.retry_max, 7200);
	assert_int_equal(cfg.queue_lifetime, 86400);
	assert_int_equal(cfg.message_size_limit, 10ull * 1024 * 1024);
	assert_int_equal(cfg.smtpd_workers, 3);
	assert_int_equal(cfg.dev_mode, 1);
	config_free(&cfg);
}

static void
relative_paths_follow_the_file(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load("spool_dir = spool\nmail_root = /abs/mail\n", &cfg,
	    err, sizeof err), 0);
	assert_string_equal(cfg.spool_dir, "/tmp/spool");
	assert_string_equal(cfg.mail_root, "/abs/mail");
	config_free(&cfg);
}

static void
unknown_key_is_refused_with_file_and_line(void **state)
{
	struct config cfg;
	char err[256], want[128];
	char *path = write_temp("myhostname = a\n\nfrobnicate = 1\n");

	(void)state;
	assert_int_equal(config_load(&cfg, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: unknown setting 'frobnicate'", path);
	assert_string_equal(err, want);
	unlink(path);
	config_free(&cfg);
}

static void
bad_values_are_refused(void **state)
{
	static const char *bad[] = {
		"retry_min = 5x\n", "retry_min = -1\n", "smtpd_workers = many\n",
		"dev_mode = perhaps\n", "message_size_limit = 10q\n",
		"retry_min = 10m\nretry_max = 1m\n", "no equals sign\n",
		"retry_min = 99999999999d\n", "smtpd_workers = 0\n",
		"myhostname = a\nmyhostname = b\n",
	};
	struct config cfg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(load(bad[i], &cfg, err, sizeof err), -1);
		assert_non_null(strstr(err, "postern-test-conf-"));
		config_free(&cfg);
	}
}

static void
duration_and_size_parsers(void **state)
{
	int s;
	uint64_t b;

	(void)state;
	assert_int_equal(config_parse_duration("0", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(config_parse_duration("4h", &s), 0);
	assert_int_equal(s, 14400);
	assert_int_equal(config_parse_duration("1w", &s), 0);
	assert_int_equal(s, 604800);
	assert_int_equal(config_parse_duration("", &s), -1);
	assert_int_equal(config_parse_duration("5mm", &s), -1);
	assert_int_equal(config_parse_size("64k", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(config_parse_size("2GB", &b), 0);
	assert_int_equal(b, 2ull << 30);
	assert_int_equal(config_parse_size("-1", &b), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_hold_when_file_is_empty),
		cmocka_unit_test(values_with_units_and_comments),
		cmocka_unit_test(relative_paths_follow_the_file),
		cmocka_unit_test(unknown_key_is_refused_with_file_and_line),
		cmocka_unit_test(bad_values_are_refused),
		cmocka_unit_test(duration_and_size_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

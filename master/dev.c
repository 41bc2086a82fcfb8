/*
 * dev - `postern dev DIR [--port-base N]`: the development instance.
 *
 * DESCRIPTION
 *	Creates, where missing, a complete instance in DIR and runs it in the
 *	foreground (this process becomes the master, so its pid is the
 *	instance's):
 *
 *		DIR/postern.conf	127.0.0.1, ports N+25, N+587, N+465,
 *					N+110, N+995, N+143, N+993
 *		DIR/spool/ DIR/mail/ DIR/empty/
 *		DIR/users		demo@localhost, password "demo"
 *		DIR/tls/cert.pem key.pem  self-signed, names DNS:localhost and
 *					IP:127.0.0.1, so strict clients connect
 *
 *	Run again on the same DIR it keeps the existing config and data
 *	(--port-base then only matters for a DIR without a config).
 *	Nothing here is a mock: it is the production code path with a
 *	generated config.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/users.h"
#include "master/cli_internal.h"
#include "master/master.h"

#define DEV_PORT_BASE 10000

static int
write_dev_config(const char *path, int base)
{
	FILE *f = fopen(path, "wx");

	if (f == NULL) {
		fprintf(stderr, "postern: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f,
	    "# Postern development instance, made by `postern dev`.\n"
	    "# Relative paths are relative to this file's directory.\n"
	    "myhostname = localhost\n"
	    "spool_dir = spool\n"
	    "mail_root = mail\n"
	    "tables_dir = .\n"
	    "users_table = users\n"
	    "empty_dir = empty\n"
	    "smtp_listen = 127.0.0.1:%d\n"
	    "submission_listen = 127.0.0.1:%d\n"
	    "smtps_listen = 127.0.0.1:%d\n"
	    "pop3_listen = 127.0.0.1:%d\n"
	    "pop3s_listen = 127.0.0.1:%d\n"
	    "imap_listen = 127.0.0.1:%d\n"
	    "imaps_listen = 127.0.0.1:%d\n"
	    "tls_cert_file = tls/cert.pem\n"
	    "tls_key_file = tls/key.pem\n"
	    "smtpd_workers = 2\n"
	    "dev_mode = yes\n",
	    base + 25, base + 587, base + 465, base + 110, base + 995,
	    base + 143, base + 993);
	if (fclose(f) != 0)
		return -1;
	return 0;
}

static int
add_name(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return 0;
}

static X509 *
make_certificate(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char serial[16];

	RAND_bytes(serial, sizeof serial);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Postern development instance", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (add_name(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") < 0 ||
	    add_name(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_name(x, NID_key_usage, "critical,digitalSignature,keyCertSign") < 0 ||
	    add_name(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A self-signed P-256 certificate for localhost and 127.0.0.1. */
static int
write_dev_certificate(const char *dir)
{
	char *cert_path = xasprintf("%s/cert.pem", dir);
	char *key_path = xasprintf("%s/key.pem", dir);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = key ? make_certificate(key) : NULL;
	FILE *cf = NULL, *kf = NULL;
	int kfd, rc = -1;

	if (x == NULL)
		goto out;
	kfd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (kfd < 0 || (kf = fdopen(kfd, "w")) == NULL ||
	    (cf = fopen(cert_path, "w")) == NULL)
		goto out;
	if (PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) &&
	    PEM_write_X509(cf, x))
		rc = 0;
out:
	if (kf && fclose(kf) != 0)
		rc = -1;
	if (cf && fclose(cf) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "postern: cannot write a certificate in %s\n", dir);
	X509_free(x);
	EVP_PKEY_free(key);
	free(cert_path);
	free(key_path);
	return rc;
}

static int
parse_port_base(int argc, char **argv, int *base)
{
	*base = DEV_PORT_BASE;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--port-base") == 0 && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*end || n < 1 || n > 65535 - 993)
				return -1;
			*base = (int)n;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Everything the instance needs, created where missing. */
static int
dev_prepare(const char *dir, int base, struct config *cfg)
{
	char *conf = xasprintf("%s/postern.conf", dir);
	char *tls = xasprintf("%s/tls", dir), *cert = xasprintf("%s/cert.pem", tls);
	char err[512];
	struct stat st;
	int rc = -1;

	if (stat(conf, &st) < 0 && write_dev_config(conf, base) < 0)
		goto out;
	if (config_load(cfg, conf, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s\n", err);
		goto out;
	}
	if (mkdir(tls, 0755) < 0 && errno != EEXIST)
		goto out;
	if (stat(cert, &st) < 0 && write_dev_certificate(tls) < 0)
		goto out;
	/* The system users must exist before the users table is given to
	 * lookup_user. */
	if (spool_prepare(cfg, geteuid() == 0) < 0)
		goto out;
	if (stat(cfg->users_table, &st) < 0 &&
	    users_add_user(cfg, "demo@localhost", "demo", err, sizeof err) < 0) {
		fprintf(stderr, "postern: cannot create demo@localhost: %s\n", err);
		goto out;
	}
	if (mail_domain_prepare(cfg, "localhost", geteuid() == 0) < 0)
		goto out;
	rc = 0;
out:
	free(conf);
	free(tls);
	free(cert);
	return rc;
}

int
cli_dev(int argc, char **argv)
{
	struct config cfg;
	char *dir, *conf, *libexec, *master;
	int base;

	if (argc < 2 || parse_port_base(argc, argv, &base) < 0) {
		fprintf(stderr, "usage: postern dev DIR [--port-base N]\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "postern: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((dir = realpath(argv[1], NULL)) == NULL)
		return 1;
	if (dev_prepare(dir, base, &cfg) < 0)
		return 1;
	conf = xasprintf("%s/postern.conf", dir);
	libexec = cli_libexec_dir();
	master = xasprintf("%s/postern-master", libexec);
	char *args[] = { "postern-master", "-c", conf, "-f", NULL };
	execv(master, args);
	fprintf(stderr, "postern: cannot run %s: %s\n", master, strerror(errno));
	return 1;
}

/*
 * cli_internal.h - what the `postern` command's files share.
 */
#ifndef POSTERN_CLI_INTERNAL_H
#define POSTERN_CLI_INTERNAL_H

#include "common/attr.h"
#include "common/buf.h"
#include "common/config.h"

char *cli_libexec_dir(void);
int cli_control(const struct config *cfg, const char *op, struct buf *frame,
    struct attr_list *reply);
int cli_dev(int argc, char **argv);

#endif

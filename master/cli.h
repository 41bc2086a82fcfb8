/*
 * cli - the verbs of the `postern` command, one file per group.
 *
 * Each verb gets the loaded config and the arguments after its own name
 * (argv[0] is the verb or sub-verb) and returns the process exit status:
 * 0 success, 1 failure (reported on stderr), 2 usage error.
 *
 *	master/cli_main.c	dispatch, -c FILE, start stop status reload
 *				check config dev
 *	master/cli_user.c	user add|passwd|del|list
 *	master/cli_queue.c	queue list|cat
 */
#ifndef POSTERN_CLI_H
#define POSTERN_CLI_H

#include "common/config.h"

int cli_user(struct config *cfg, int argc, char **argv);
int cli_queue(struct config *cfg, int argc, char **argv);

#endif

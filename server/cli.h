/*
 * cli.h: the ggufd command line (serve, config, import, pull, ls, token, verify,
 * help; the table in cli.c).
 *
 * Exit statuses: 0 success, 1 the command failed (or verify found bad
 * blobs), 2 usage error (unknown command or flag, missing argument).
 */
#ifndef GG_CLI_H
#define GG_CLI_H

int cli_main(int argc, char **argv);

#endif

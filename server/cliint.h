/*
 * cliint.h: what cli.c shares with the commands split from it (daemon.c:
 * serve and config; import.c: import; release.c: registry, card, export).
 * Nothing else includes it.
 */
#ifndef GG_CLIINT_H
#define GG_CLIINT_H

#include "route.h"

struct option;
struct store;

#define EXIT_USAGE 2
#define DEFAULT_UPSTREAM "https://huggingface.co"

/* One line on stderr, "ggufd: CMD: message (see 'ggufd CMD --help')";
 * returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt_long with our own one-line errors (conf_getopt): the option, -1
 * at the end, or '?' after printing the error. */
int cli_next_opt(const char *cmd, int argc, char **argv, const struct option *opts);
/* The store directory: GGUFD_STORE, else the default. */
const char *cli_default_store(void);
/* Opens the store at dir: 0, or 1 after saying why on stderr. */
int cli_open_store(const char *dir, struct store **st);
/* "datasets/x/y" -> (REPO_DATASET, "x/y"). */
int cli_split_repo(const char *arg, enum repo_type *type, const char **repo);
/* The store's quota from a --max-store-size value (bytes, or a percentage
 * of the store's filesystem; "" for none): 0, or -1 if the filesystem
 * cannot be measured. */
int cli_apply_quota(struct store *st, const char *v);

/* The commands split from cli.c (argv[0] is the command's name): an exit
 * status. */
int cmd_serve(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_card(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif

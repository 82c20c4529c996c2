/*
 * conf.h: the configuration of `ggufd serve` (and `ggufd config`), from
 * four sources, highest first:
 *
 *   command-line flags  >  GGUFD_* environment  >  config file  >  built-in defaults
 *
 * Every serve option is one row of conf_options[] (conf.c): its name (the
 * long flag without "--", and the key in the config file), its environment
 * variable, its kind, whether it is secret, whether a running server can
 * take a new value on SIGHUP, its default and its help.  Adding an option
 * is one row here plus the code that uses its value.
 *
 * The config file (--config FILE, or GGUFD_CONFIG) is "key = value" lines;
 * blank lines and lines starting with '#' are skipped, and a '#' after
 * white space starts a comment (so `ggufd config` output reads back).
 * Booleans take true/false/yes/no/1/0 (any case); a bare boolean flag is
 * true and --flag=no turns it off.  A repeatable option (CONF_LIST) may
 * appear several times in a file or on the command line; its environment
 * variable holds the items separated by commas or white space; the
 * highest source that sets it wins as a whole.
 *
 * Thread safety: a struct conf is built and read by one thread (serve's
 * main thread); the running server copies what it needs out of it.
 */
#ifndef GG_CONF_H
#define GG_CONF_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The options, in the order of conf_options[] (and of --help). */
enum conf_id {
	CONF_LISTEN,
	CONF_STORE,
	CONF_UPSTREAM,
	CONF_PEER,
	CONF_SELF,
	CONF_OFFLINE,
	CONF_REF_TTL,
	CONF_MAX_TRANSFERS,
	CONF_MAX_STORE_SIZE,
	CONF_GC_INTERVAL,
	CONF_CA_BUNDLE,
	CONF_UPLOAD_REPO,
	CONF_UPLOAD_ALLOW,
	CONF_GGUF_PREFIX,
	CONF_UPLOAD_MAX_SIZE,
	CONF_PROTECTED_BRANCH,
	CONF_ALLOW_OVERWRITE,
	CONF_CARD_FILES_TABLE,
	CONF_MULTIPART_THRESHOLD,
	CONF_MULTIPART_CHUNK,
	CONF_REQUIRE_TOKEN_FOR_READ,
	CONF_PUBLIC_REPO,
	CONF_UPLOAD_URL_TTL,
	CONF_ACCESS_LOG,
	CONF_THREADS,
	CONF_PUBLIC_URL,
	CONF_LOG_LEVEL,
	CONF_DRAIN_TIMEOUT,
	CONF_MAX_CONNECTIONS,
	CONF_PER_IP_CONNECTIONS,
	CONF_CONNECTION_TIMEOUT,
	CONF_HEADER_TIMEOUT,
	CONF_CONNECTION_MEMORY,
	CONF_FAST_LANE,
	CONF_BLOB_STORE,
	CONF_S3_ENDPOINT,
	CONF_S3_CREATE_BUCKET,
	CONF_S3_PART_SIZE,
	CONF_S3_UPLOAD_RATE,
	CONF_COUNT
};

enum conf_kind {
	CONF_STR,  /* a string, checked by the row's check() if it has one */
	CONF_UINT, /* a decimal number in [min, max] */
	CONF_BOOL, /* true/false/yes/no/1/0 */
	CONF_LIST, /* repeatable strings, at most max of them */
};

#define CONF_RELOAD 1u /* a running server takes a new value on SIGHUP */
#define CONF_SECRET 2u /* the value is never printed nor logged */

struct conf_option {
	const char *name; /* "listen": the flag --listen and the file key */
	const char *env;  /* "GGUFD_LISTEN" */
	enum conf_kind kind;
	unsigned flags;    /* CONF_RELOAD, CONF_SECRET */
	const char *arg;   /* the value's name in --help ("HOST:PORT"); NULL for booleans */
	const char *def;   /* STR and LIST default (LIST: items separated by spaces), NULL: unset */
	uint64_t dnum;     /* UINT and BOOL default */
	uint64_t min, max; /* UINT bounds; LIST: the most items */
	const char *must;  /* the complaint about a bad value: "takes 1 to 256" */
	int (*check)(const char *v); /* STR: 0 if v is acceptable; NULL: anything */
	const char *help;            /* --help text; '\n' separates its lines */
};

extern const struct conf_option conf_options[CONF_COUNT];

enum conf_source { CONF_SRC_DEFAULT, CONF_SRC_FILE, CONF_SRC_ENV, CONF_SRC_FLAG, CONF_NSRC };

struct conf;

/*
 * Builds the configuration of a serve-like command (cmd names it in
 * messages) from argv (argv[0] is the command: getopt_long starts at
 * optind = 1; --config FILE and --help are understood too), the
 * environment and the config file.  Every value is checked where it comes
 * from.  Returns 0 with *out (free with conf_free), 1 if --help was asked
 * (*out NULL), or -1 with a one-line message in err naming the source
 * ("--threads takes 1 to 256, not 'x'", "GGUFD_THREADS takes ...",
 * "FILE:LINE: threads takes ...", "FILE:LINE: unknown key 'x'",
 * "cannot read the config file 'FILE' (--config): ...").
 */
int conf_load(int argc, char **argv, struct conf **out, char *err, size_t errsz);

/*
 * Builds a new configuration from cur's flags, the environment and a fresh
 * read of cur's config file (SIGHUP).  0 with *out, or -1 with err as
 * conf_load (cur is untouched).
 */
int conf_reload(const struct conf *cur, struct conf **out, char *err, size_t errsz);

void conf_free(struct conf *c);

/* The config file read ("" without one); borrowed from c. */
const char *conf_file(const struct conf *c);

/*
 * The effective value of an option, borrowed from c until conf_free:
 * conf_str is NULL when unset; conf_u64 is a UINT's number or a BOOL's
 * 0/1; conf_list gives the items and their count.
 */
const char *conf_str(const struct conf *c, enum conf_id id);
uint64_t conf_u64(const struct conf *c, enum conf_id id);
size_t conf_list(const struct conf *c, enum conf_id id, char *const **items);
/* Where the effective value came from. */
enum conf_source conf_source_of(const struct conf *c, enum conf_id id);

/* 1 if a and b have the same effective value for id. */
int conf_same(const struct conf *a, const struct conf *b, enum conf_id id);

/*
 * Writes the effective configuration as a config file: one "key = value"
 * line per value, each with a comment naming its source (flag, env
 * GGUFD_X, FILE:LINE, default); unset options and secrets as comments.
 */
void conf_print(const struct conf *c, FILE *out);

/* Writes the options' help lines (--help), from the table. */
void conf_usage(FILE *out);

/*
 * The upstream token, as huggingface_hub reads it: HF_TOKEN, else
 * HUGGING_FACE_HUB_TOKEN, else HUGGINGFACE_API_KEY.  Returns the value
 * (NULL if none is set and non-empty) and the variable's name in *var (if
 * var is not NULL).  Never log the value.
 */
const char *conf_upstream_token(const char **var);

/*
 * getopt_long with ggufd's one-line errors: the short options are "h"
 * only.  Returns the option's val, -1 at the end, or '?' with err set:
 * "unknown option '--x'", "ambiguous option '--l' (--listen, --log-level)",
 * "option '--x' needs a value", "option '--x' takes no value".
 */
int conf_getopt(int argc, char **argv, const struct option *opts, char *err, size_t errsz);

/*
 * A --max-store-size value: bytes, a number with K, M, G or T (powers of
 * 1024; KB/KiB and so on too), or N% (1 to 100) of the store's filesystem.
 * 0 with *bytes (0 for a percentage) and *pct (0 for a size), or -1.
 */
int conf_parse_store_size(const char *v, uint64_t *bytes, unsigned *pct);

#endif

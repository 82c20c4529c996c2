/*
 * release.c: 'ggufd registry', 'ggufd card' and 'ggufd export': a repo's
 * GGUF files as a registry listing, a model card, or a huggingface_hub
 * cache for offline hosts.  Split from cli.c (cliint.h).
 */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fetch.h"
#include "registry.h"
#include "export.h"
#include "log.h"
#include "policy.h"
#include "route.h"
#include "store.h"
#include "cliint.h"
#include "util.h"

static const char usage_registry[] =
	"usage: ggufd registry [--store DIR] [--revision REV] [--format json|sha256sums]\n"
	"                      [--base URL] REPO\n"
	"\n"
	"Prints the GGUF files of REPO at REV (default main; a branch, tag or commit) as\n"
	"the store knows them: file name, size, sha256, quant, architecture, parameters,\n"
	"context length, shard set, download URL on this mirror, and whether the bytes\n"
	"are here (\"present\": a mirrored file can be known before it is fetched).\n"
	"The same as GET /api/ggufd/registry/REPO?revision=REV on a running ggufd.\n"
	"\n"
	"  --format json        one JSON object (default)\n"
	"  --format sha256sums  SHA256SUMS lines ('<sha256>  <file>') for sha256sum -c\n"
	"  --base URL           the mirror's address in download URLs\n"
	"                       (default http://localhost:8080)\n";

static const char usage_card[] =
	"usage: ggufd card [--store DIR] [--revision REV] [--base URL] [--license ID]\n"
	"                  [--language CODES] [--base-model REPO] REPO\n"
	"\n"
	"Prints a model card (README.md) for the GGUF files of REPO at REV: YAML front\n"
	"matter the upload gateway's card policy accepts (license, language, tags, and\n"
	"base_model where the GGUF names one), a files table (the rows\n"
	"--card-files-table keeps), a hardware table estimated from file sizes and the\n"
	"GGUF's shape (RAM = file size + KV cache), and usage lines for curl,\n"
	"HF_ENDPOINT, llama.cpp, node-llama-cpp and Ollama against this mirror.\n"
	"\n"
	"  --base URL          the mirror's address (default http://localhost:8080)\n"
	"  --license ID        default: the GGUF's general.license, else \"other\"\n"
	"  --language CODES    comma-separated; default: general.languages, else \"en\"\n"
	"  --base-model REPO   default: general.base_model.0.repo_url on the Hub\n";

static const char usage_export[] =
	"usage: ggufd export [--store DIR] --hf-cache DIR [--include GLOB]... [--copy]\n"
	"                    REPO[@REV]\n"
	"\n"
	"Writes the files of REPO at REV (default main; a branch, tag or commit) that\n"
	"the store holds as a huggingface_hub cache in DIR: models--org--name/ with\n"
	"blobs/ (named by sha256 for LFS files, by git blob sha1 for the others),\n"
	"snapshots/<commit>/ (relative symlinks to the blobs) and refs/REV.  Then\n"
	"HF_HUB_OFFLINE=1 HF_HUB_CACHE=DIR (huggingface_hub) or LLAMA_CACHE=DIR\n"
	"(llama.cpp) find them with no network, and 'ggufd import --hf-cache DIR'\n"
	"reads them back.  Blobs are hard links to the store's where DIR is on the\n"
	"same filesystem (never write to them in place), else copies.  Files the\n"
	"store knows but does not hold (not fetched yet) are skipped with a warning.\n"
	"Exit status 1 if a file could not be written.\n"
	"\n"
	"  --include GLOB   only files matching GLOB (the path or its base name)\n"
	"  --copy           copy the blobs even where a hard link would do\n";

/* --- registry, card, export -------------------------------------------------- */

/* A mirror URL from the command line: http(s)://host[:port][/prefix],
 * kept without a trailing "/".  NULL if it is not one. */
static char *
base_url_arg(const char *v)
{
	size_t n = strlen(v);
	if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || n > 1024 ||
	    strpbrk(v, " \t\r\n\"'<>") != NULL)
		return NULL;
	while (n > 0 && v[n - 1] == '/')
		n--;
	return xstrndup(v, n);
}

/* Opens the store and reads REPO's registry at rev; prints why not. */
static int
registry_open(const char *cmd, const char *store, const char *repo_arg, const char *rev,
	      struct store **st, struct registry *reg)
{
	enum repo_type type;
	const char *repo;
	int known = 0, r;

	memset(reg, 0, sizeof(*reg));
	if (cli_split_repo(repo_arg, &type, &repo) != 0)
		return cli_usage_error(cmd, "'%s' is not a valid repo id", repo_arg);
	if (rev[0] == '\0' || strlen(rev) > GG_MAX_REV_LEN)
		return cli_usage_error(cmd, "invalid revision '%s'", rev);
	if (cli_open_store(store, st) != 0)
		return 1;
	r = registry_collect(*st, type, repo, rev, reg, &known);
	if (r == GG_ENOENT) {
		if (known)
			fprintf(stderr, "ggufd: %s: no revision '%s' of %s in the store\n", cmd,
				rev, repo_arg);
		else
			fprintf(stderr, "ggufd: %s: no repo '%s' in the store\n", cmd, repo_arg);
	} else if (r != GG_OK) {
		fprintf(stderr, "ggufd: %s: %s\n", cmd, gg_strerror(r));
	}
	if (r != GG_OK) {
		store_close(*st);
		*st = NULL;
		return 1;
	}
	return 0;
}

int
cmd_registry(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "revision", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "base", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *rev = "main", *fmt = "json";
	char *base = NULL;
	struct store *st = NULL;
	struct registry reg;
	int c, rc;

	while ((c = cli_next_opt("registry", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'r': rev = optarg; break;
		case 'f': fmt = optarg; break;
		case 'b':
			free(base);
			if ((base = base_url_arg(optarg)) == NULL)
				return cli_usage_error("registry",
						       "--base needs http(s)://HOST[:PORT] ('%s')",
						       optarg);
			break;
		case 'h':
			free(base);
			fputs(usage_registry, stdout);
			return 0;
		default: free(base); return EXIT_USAGE;
		}
	}
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "sha256sums") != 0) {
		free(base);
		return cli_usage_error("registry", "--format is json or sha256sums ('%s')", fmt);
	}
	if (argc - optind != 1) {
		free(base);
		return cli_usage_error("registry", "needs one REPO");
	}
	if ((rc = registry_open("registry", store, argv[optind], rev, &st, &reg)) != 0) {
		free(base);
		return rc;
	}
	if (strcmp(fmt, "sha256sums") == 0) {
		char *txt = registry_sha256sums(&reg);
		fputs(txt, stdout);
		free(txt);
	} else {
		cJSON *o = registry_json(&reg, base ? base : "http://localhost:8080");
		char *txt = cJSON_Print(o);
		cJSON_Delete(o);
		if (txt == NULL)
			log_fatalx("cJSON_Print() failed: out of memory");
		printf("%s\n", txt);
		free(txt);
	}
	registry_free(&reg);
	store_close(st);
	free(base);
	return 0;
}

int
cmd_card(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "revision", required_argument, NULL, 'r' },
		{ "base", required_argument, NULL, 'b' },
		{ "license", required_argument, NULL, 'l' },
		{ "language", required_argument, NULL, 'L' },
		{ "base-model", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *rev = "main";
	struct registry_card_opts o;
	char *base = NULL, *txt;
	struct store *st = NULL;
	struct registry reg;
	int c, rc;

	memset(&o, 0, sizeof(o));
	while ((c = cli_next_opt("card", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'r': rev = optarg; break;
		case 'b':
			free(base);
			if ((base = base_url_arg(optarg)) == NULL)
				return cli_usage_error("card",
						       "--base needs http(s)://HOST[:PORT] ('%s')",
						       optarg);
			break;
		case 'l': o.license = optarg; break;
		case 'L': o.language = optarg; break;
		case 'm':
			if (!route_valid_repo(optarg)) {
				free(base);
				return cli_usage_error(
					"card", "--base-model needs a repo id ('%s')", optarg);
			}
			o.base_model = optarg;
			break;
		case 'h':
			free(base);
			fputs(usage_card, stdout);
			return 0;
		default: free(base); return EXIT_USAGE;
		}
	}
	if ((o.license && (o.license[0] == '\0' || strpbrk(o.license, "\n\r") != NULL)) ||
	    (o.language && (o.language[0] == '\0' || strpbrk(o.language, "\n\r") != NULL))) {
		free(base);
		return cli_usage_error("card", "--license and --language take one line of text");
	}
	if (argc - optind != 1) {
		free(base);
		return cli_usage_error("card", "needs one REPO");
	}
	if ((rc = registry_open("card", store, argv[optind], rev, &st, &reg)) != 0) {
		free(base);
		return rc;
	}
	if (reg.n == 0)
		fprintf(stderr, "ggufd: card: %s@%s has no .gguf file\n", argv[optind], rev);
	o.base = base;
	txt = registry_card(&reg, st, &o);
	fputs(txt, stdout);
	free(txt);
	registry_free(&reg);
	store_close(st);
	free(base);
	return 0;
}

int
cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "hf-cache", required_argument, NULL, 'c' },
		{ "include", required_argument, NULL, 'i' },
		{ "copy", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *dir = NULL, *repo, *rev = "main";
	char *globs[POLICY_MAX_ITEMS], *arg, *at;
	struct export_report rep;
	struct store *st = NULL;
	enum repo_type type;
	int c, r, nglobs = 0, link_ok = 1, rc = 1;

	while ((c = cli_next_opt("export", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'c': dir = optarg; break;
		case 'i':
			if (nglobs == POLICY_MAX_ITEMS)
				return cli_usage_error("export", "at most 64 --include ('%s')",
						       optarg);
			globs[nglobs++] = optarg;
			break;
		case 'C': link_ok = 0; break;
		case 'h': fputs(usage_export, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (dir == NULL || dir[0] == '\0')
		return cli_usage_error("export", "needs --hf-cache DIR");
	if (argc - optind != 1)
		return cli_usage_error("export", "needs one REPO or REPO@REV");
	arg = xstrdup(argv[optind]);
	if ((at = strchr(arg, '@')) != NULL) {
		*at = '\0';
		rev = at + 1;
	}
	if (cli_split_repo(arg, &type, &repo) != 0 || *rev == '\0' ||
	    strlen(rev) > GG_MAX_REV_LEN) {
		free(arg);
		return cli_usage_error("export", "'%s' is not REPO or REPO@REV", argv[optind]);
	}
	if (cli_open_store(store, &st) != 0) {
		free(arg);
		return 1;
	}
	r = export_hf_cache(st, dir, type, repo, rev, globs, nglobs, link_ok, stdout, stderr, &rep);
	store_close(st);
	if (r == GG_ENOENT)
		fprintf(stderr, "ggufd: export: no revision '%s' of %s in the store\n", rev, arg);
	else if (r == GG_EINVAL)
		fprintf(stderr, "ggufd: export: '%s' cannot name a ref in a cache\n", rev);
	else if (r != GG_OK)
		fprintf(stderr, "ggufd: export: %s\n", gg_strerror(r));
	else {
		printf("exported %llu files (%llu bytes: %llu hard-linked, %llu copied, %llu "
		       "already "
		       "there) of %s@%.12s to %s/%s",
		       (unsigned long long)rep.files, (unsigned long long)rep.bytes,
		       (unsigned long long)rep.linked, (unsigned long long)rep.copied,
		       (unsigned long long)rep.kept, arg, rep.commit, dir, rep.folder);
		if (rep.missing)
			printf("; skipped %llu not in the store", (unsigned long long)rep.missing);
		printf("\n");
		if (nglobs > 0 && rep.files + rep.missing == 0)
			fprintf(stderr, "ggufd: export: no file of %s@%.12s matches\n", arg,
				rep.commit);
		rc = rep.failed ? 1 : 0;
	}
	free(arg);
	return rc;
}

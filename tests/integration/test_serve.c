/*
 * test_serve.c: end-to-end tests of `ggufd serve` against the real binary.
 *
 * The group setup builds a small store with the real `ggufd import`: a
 * ~6 MB GGUF (ggufgen, fixed seed), config.json, README.md and a 1 MB
 * sub/dir/weights.bin on main, one more file on refs/pr/1, and one file in
 * the dataset datasets/ruv/data.  It then starts `ggufd serve` on
 * 127.0.0.1:0 and reads the port from the "listening on" log line.  Every
 * test talks HTTP to that one server through libcurl and checks the wire
 * against HF-PROTOCOL.md (sections 1.2, 1.4, 2.2, 2.3, 2.7, 2.8, 3, 6.5,
 * 6.12) and against the source bytes, hashed here with OpenSSL.
 *
 * Rules kept: 127.0.0.1 only; every wait is bounded (counted polls,
 * CURLOPT_TIMEOUT); nothing asserts on timing; the server and the temp
 * dir are gone after the group teardown.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "tests/tools/ggufgen.h"

/* Waits are counted in polls of POLL_NS, never measured. */
#define POLL_NS 100000000L /* 0.1 s */
#define START_POLLS 100    /* ~10 s for "listening on" */
#define STOP_POLLS 100     /* ~10 s for an exit after SIGTERM */
#define CMD_POLLS 600      /* ~60 s for one import */
#define HTTP_TIMEOUT_S 60L
#define CONNECT_TIMEOUT_S 10L
#define MULTI_POLL_MS 1000
#define MULTI_MAX_POLLS 600

#define GGUF_MIN_SIZE (6u << 20)
#define GGUF_SEED 20240611u
#define GGUF_ARCH "qwen2"
#define GGUF_FTYPE 15 /* LLAMA_FTYPE_MOSTLY_Q4_K_M */
#define GGUF_CONTEXT 32768u
#define WEIGHTS_SIZE (1u << 20)
#define WEIGHTS_SEED 0x5eed0001u
#define RANGE_SEED 0x243f6a8885a308d3ULL
#define N_RANDOM_RANGES 300
#define N_CONCURRENT 16
#define MAX_PAGES 64
#define MAX_PARTS 32
#define LONG_URL_BYTES (10u * 1024)
#define BIG_HEADER_BYTES (40u * 1024)

#define REPO "ruv/ruvltra"
#define DATASET "ruv/data"
#define LFS_POINTER_FMT "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %zu\n"
/* The pattern huggingface.js uses (utils/parseLinkHeader.ts), in ERE. */
#define LINK_RE "<(https?:[^>]+)>;[[:space:]]+rel=\"([^\"]+)\""

/* ---- the fixture ---------------------------------------------------- */

struct tfile {
	const char *disk; /* name in the temp dir */
	const char *path; /* path in the repo */
	int lfs;          /* stored as LFS by the Hub's default .gitattributes */
	unsigned char *data;
	size_t size;
	char sha256[65];
	char gitsha1[41]; /* git blob sha1 of the content */
	char ptrsha1[41]; /* git blob sha1 of the LFS pointer */
	size_t ptrsize;   /* length of the LFS pointer text */
};

enum { F_GGUF, F_CONFIG, F_README, F_WEIGHTS, F_PR, F_DATA, F_COUNT };
#define N_MAIN 4 /* F_GGUF..F_WEIGHTS are the files on main */

static struct tfile files[F_COUNT] = {
	[F_GGUF] = { "ruvltra-0.5b-q4_k_m.gguf", "ruvltra-0.5b-q4_k_m.gguf", 1, NULL, 0, "", "", "",
		     0 },
	[F_CONFIG] = { "config.json", "config.json", 0, NULL, 0, "", "", "", 0 },
	[F_README] = { "README.md", "README.md", 0, NULL, 0, "", "", "", 0 },
	[F_WEIGHTS] = { "weights.bin", "sub/dir/weights.bin", 1, NULL, 0, "", "", "", 0 },
	[F_PR] = { "pr-notes.txt", "pr-notes.txt", 0, NULL, 0, "", "", "", 0 },
	[F_DATA] = { "data.csv", "data.csv", 0, NULL, 0, "", "", "", 0 },
};

static const char config_json[] =
	"{\"architectures\":[\"Qwen2ForCausalLM\"],\"model_type\":\"qwen2\","
	"\"hidden_size\":896,\"num_hidden_layers\":24}\n";
static const char readme_md[] =
	"---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# ruvltra\n\nA test model for ggufd.\n";
static const char pr_notes[] = "notes that only exist on pull request 1\n";
static const char data_csv[] = "id,text\n1,hello\n2,world\n";

static struct {
	const char *ggufd;
	char dir[256];
	char store[320];
	char implog[320];
	char srvlog[320];
	char base[64]; /* http://127.0.0.1:PORT */
	pid_t pid;
	char commit[41];    /* main */
	char pr_commit[41]; /* refs/pr/1 */
	char ds_commit[41]; /* datasets/ruv/data main */
} fx = { .pid = -1 };

/* ---- small helpers -------------------------------------------------- */

static void fmt_checked(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
fmt_checked(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n) {
		fprintf(stderr, "snprintf truncated (%d >= %zu)\n", r, n);
		abort();
	}
}
#define LFS_OID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FMT(buf, ...) fmt_checked((buf), sizeof(buf), __VA_ARGS__)

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static void
sleep_poll(void)
{
	struct timespec ts = { 0, POLL_NS };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0' || s[n] == '\n' || s[n] == ' ' || s[n] == '\r';
}

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) || len != 32)
		abort();
	hex(md, len, out);
}

static void
git_sha1_hex(const void *p, size_t n, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hdr[64];
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	FMT(hdr, "blob %zu", n);
	if (c == NULL || !EVP_DigestInit_ex(c, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(c, hdr, strlen(hdr) + 1) || !EVP_DigestUpdate(c, p, n) ||
	    !EVP_DigestFinal_ex(c, md, &len) || len != 20)
		abort();
	EVP_MD_CTX_free(c);
	hex(md, len, out);
}

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rnd_below(uint64_t *s, uint64_t n)
{
	return n ? splitmix64(s) % n : 0;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fwrite(p, 1, n, f) == n)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* The whole file, NUL-terminated; caller frees. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 131072;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

/* ---- processes ------------------------------------------------------ */

/* Runs argv in fx.dir, stdout to out, stderr appended to the import log.
 * Returns the exit status, or -1 (failed to start, killed, timed out). */
static int
run_cmd(char *const argv[], const char *out)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(fx.implog, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(fx.dir) != 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < CMD_POLLS; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		sleep_poll();
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Checks an import's "imported PATH SHA256 SIZE" lines against the
 * source files and copies the "commit <40hex>" id. */
static int
check_import(const char *out, char commit[41])
{
	size_t len;
	unsigned char *text = slurp(out, &len);
	char *save = NULL, *line;
	int rc = -1, nimported = 0;

	commit[0] = '\0';
	if (text == NULL)
		return -1;
	for (line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char path[1024], sha[80];
		unsigned long long size;
		if (strncmp(line, "commit ", 7) == 0 && is_hex(line + 7, 40)) {
			memcpy(commit, line + 7, 40);
			commit[40] = '\0';
		} else if (sscanf(line, "imported %1023s %79s %llu", path, sha, &size) == 3) {
			int found = 0;
			for (int i = 0; i < F_COUNT; i++) {
				if (strcmp(files[i].path, path) != 0)
					continue;
				found = 1;
				if (strcmp(files[i].sha256, sha) != 0 || files[i].size != size) {
					printf("# import reported %s %s %llu, expected %s %zu\n",
					       path, sha, size, files[i].sha256, files[i].size);
					goto fail;
				}
			}
			if (!found) {
				printf("# import reported an unknown path %s\n", path);
				goto fail;
			}
			nimported++;
		}
	}
	if (commit[0] != '\0' && nimported > 0)
		rc = 0;
	else
		printf("# import output lacks a commit or imported lines: %s\n", out);
fail:
	free(text);
	return rc;
}

static int
server_start(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int e = open(fx.srvlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_RDWR);
		if (e < 0 || n < 0 || dup2(n, 0) < 0 || dup2(n, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		/* --upstream none: a local registry, the store is the whole truth. */
		execl(fx.ggufd, "ggufd", "serve", "--listen", "127.0.0.1:0", "--upstream", "none",
		      "--store", fx.store, (char *)NULL);
		_exit(127);
	}
	fx.pid = pid;
	for (int i = 0; i < START_POLLS; i++) {
		static const char key[] = "listening on http://127.0.0.1:";
		size_t len;
		unsigned char *log = slurp(fx.srvlog, &len);
		char *hit = log ? strstr((char *)log, key) : NULL;
		int st;

		if (hit != NULL) {
			const char *p = hit + strlen(key);
			unsigned port = 0;
			int digits = 0;
			while (*p >= '0' && *p <= '9' && digits < 6) {
				port = port * 10 + (unsigned)(*p++ - '0');
				digits++;
			}
			free(log);
			if (digits == 0 || port == 0 || port > 65535)
				return -1;
			FMT(fx.base, "http://127.0.0.1:%u", port);
			return 0;
		}
		free(log);
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fx.pid = -1;
			printf("# ggufd serve exited before listening\n");
			return -1;
		}
		sleep_poll();
	}
	printf("# no \"listening on\" line in %s\n", fx.srvlog);
	return -1;
}

/* SIGTERM, then a bounded wait.  Returns 0 on a clean exit. */
static int
server_stop(void)
{
	int st = 0;

	if (fx.pid <= 0)
		return 0;
	kill(fx.pid, SIGTERM);
	for (int i = 0; i < STOP_POLLS; i++) {
		pid_t w = waitpid(fx.pid, &st, WNOHANG);
		if (w == fx.pid) {
			fx.pid = -1;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				return 0;
			printf("# ggufd serve ended with status 0x%x after SIGTERM\n",
			       (unsigned)st);
			return -1;
		}
		sleep_poll();
	}
	printf("# ggufd serve ignored SIGTERM; killing it\n");
	kill(fx.pid, SIGKILL);
	waitpid(fx.pid, &st, 0);
	fx.pid = -1;
	return -1;
}

/* ---- HTTP ----------------------------------------------------------- */

struct hdr {
	char *name;
	char *value;
};

struct resp {
	long status;
	struct hdr *h;
	size_t nh;
	unsigned char *body; /* always NUL-terminated when non-NULL */
	size_t blen, bcap;
};

static void
hdrs_free(struct resp *r)
{
	for (size_t i = 0; i < r->nh; i++) {
		free(r->h[i].name);
		free(r->h[i].value);
	}
	free(r->h);
	r->h = NULL;
	r->nh = 0;
}

static void
resp_free(struct resp *r)
{
	hdrs_free(r);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static size_t
on_header(char *p, size_t sz, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t len = sz * nmemb;
	const char *colon, *v, *end = p + len;

	/* A new status line (after a 100 Continue) starts a new header set. */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		hdrs_free(r);
		return len;
	}
	colon = memchr(p, ':', len);
	if (colon == NULL)
		return len;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	r->h = realloc(r->h, (r->nh + 1) * sizeof(*r->h));
	if (r->h == NULL)
		abort();
	r->h[r->nh].name = strndup(p, (size_t)(colon - p));
	r->h[r->nh].value = strndup(v, (size_t)(end - v));
	if (r->h[r->nh].name == NULL || r->h[r->nh].value == NULL)
		abort();
	r->nh++;
	return len;
}

static size_t
on_body(char *p, size_t sz, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t len = sz * nmemb;

	if (r->bcap - r->blen < len + 1) {
		size_t cap = r->bcap ? r->bcap : 4096;
		while (cap - r->blen < len + 1)
			cap *= 2;
		r->body = realloc(r->body, cap);
		if (r->body == NULL)
			abort();
		r->bcap = cap;
	}
	memcpy(r->body + r->blen, p, len);
	r->blen += len;
	r->body[r->blen] = '\0';
	return len;
}

/* The first value of header name (case-insensitive), or NULL. */
static const char *
hdr_get(const struct resp *r, const char *name)
{
	for (size_t i = 0; i < r->nh; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

/* target: a path (appended to fx.base) or an absolute URL. */
static CURL *
easy_new(const char *method, const char *target, struct curl_slist *hl, const char *body,
	 size_t blen, struct resp *r, char *url, size_t urlsz)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		abort();
	if (strncmp(target, "http", 4) == 0)
		fmt_checked(url, urlsz, "%s", target);
	else
		fmt_checked(url, urlsz, "%s%s", fx.base, target);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (hl != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (method == NULL || strcmp(method, "GET") == 0) {
		/* the default */
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? blen : 0));
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	return c;
}

static struct curl_slist *
slist_from(const char *const *hdrs)
{
	/* "Expect:" keeps curl from waiting for a 100 Continue on POST. */
	struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
	for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
		if ((hl = curl_slist_append(hl, hdrs[i])) == NULL)
			abort();
	return hl;
}

/* One request; hdrs is NULL-terminated (or NULL).  Returns the CURLcode. */
static CURLcode
http(struct resp *r, const char *method, const char *target, const char *const *hdrs,
     const char *body, size_t blen)
{
	static char url[32768];
	struct curl_slist *hl = slist_from(hdrs);
	CURL *c;
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	c = easy_new(method, target, hl, body, blen, r, url, sizeof(url));
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body == NULL) {
		r->body = xmalloc(1);
		r->body[0] = '\0';
		r->bcap = 1;
	}
	if (cc != CURLE_OK)
		printf("# %s %s: %s\n", method ? method : "GET", target, curl_easy_strerror(cc));
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	return cc;
}

static void
req(struct resp *r, const char *method, const char *target, const char *const *hdrs,
    const char *body, size_t blen)
{
	assert_int_equal(http(r, method, target, hdrs, body, blen), CURLE_OK);
}

static void
get(struct resp *r, const char *target)
{
	req(r, "GET", target, NULL, NULL, 0);
}

static void
head(struct resp *r, const char *target)
{
	req(r, "HEAD", target, NULL, NULL, 0);
}

/* GET with one extra header line. */
static void
get1(struct resp *r, const char *target, const char *h)
{
	const char *hs[] = { h, NULL };
	req(r, "GET", target, hs, NULL, 0);
}

static void
assert_hdr(const struct resp *r, const char *name, const char *want)
{
	const char *v = hdr_get(r, name);
	if (v == NULL)
		fail_msg("header %s missing (want \"%s\")", name, want);
	if (strcmp(v, want) != 0)
		fail_msg("header %s: \"%s\", want \"%s\"", name, v, want);
}

static void
assert_no_hdr(const struct resp *r, const char *name)
{
	const char *v = hdr_get(r, name);
	if (v != NULL)
		fail_msg("unexpected header %s: %s", name, v);
}

static void
assert_status(const struct resp *r, long want)
{
	if (r->status != want)
		fail_msg("status %ld, want %ld (X-Error-Code %s, body %.200s)", r->status, want,
			 hdr_get(r, "X-Error-Code") ? hdr_get(r, "X-Error-Code") : "-",
			 r->body ? (const char *)r->body : "");
}

static void
assert_body_is(const struct resp *r, const struct tfile *f)
{
	if (r->blen != f->size)
		fail_msg("%s: body %zu bytes, want %zu", f->path, r->blen, f->size);
	assert_memory_equal(r->body, f->data, f->size);
}

/* Does the comma-separated list in header name contain item (case-insensitive)? */
static int
hdr_list_has(const struct resp *r, const char *name, const char *item)
{
	const char *v = hdr_get(r, name);
	size_t n = strlen(item);

	while (v != NULL && *v != '\0') {
		const char *e = strchr(v, ',');
		const char *end = e ? e : v + strlen(v);
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		const char *te = end;
		while (te > v && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t)(te - v) == n && strncasecmp(v, item, n) == 0)
			return 1;
		v = e ? e + 1 : NULL;
	}
	return 0;
}

static void
resolve_url(char *buf, size_t n, const char *rev, const char *path)
{
	fmt_checked(buf, n, "/" REPO "/resolve/%s/%s", rev, path);
}

static void
quoted(char *buf, size_t n, const char *s)
{
	fmt_checked(buf, n, "\"%s\"", s);
}

/* Expected ETag of a file (HF-PROTOCOL.md 2.2). */
static void
etag_of(const struct tfile *f, char out[80])
{
	quoted(out, 80, f->lfs ? f->sha256 : f->gitsha1);
}

static cJSON *
json_of(const struct resp *r)
{
	cJSON *j = cJSON_ParseWithLength((const char *)r->body, r->blen);
	if (j == NULL)
		fail_msg("body is not JSON: %.200s", (const char *)r->body);
	return j;
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
jnum_is(const cJSON *o, const char *key, double want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && v->valuedouble == want;
}

static const cJSON *
find_by(const cJSON *arr, const char *key, const char *val)
{
	const cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		const char *s = jstr(e, key);
		if (s != NULL && strcmp(s, val) == 0)
			return e;
	}
	return NULL;
}

/* ---- group setup and teardown --------------------------------------- */

static int
make_inputs(void)
{
	struct ggufgen_tensor t[GGUFGEN_DEFAULT_TENSORS];
	struct ggufgen_opts o;
	uint64_t s = WEIGHTS_SEED;
	unsigned char *w = xmalloc(WEIGHTS_SIZE);
	char path[512];

	ggufgen_defaults(&o);
	o.arch = GGUF_ARCH;
	o.name = "ruvltra 0.5B";
	o.file_type = GGUF_FTYPE;
	o.context_length = GGUF_CONTEXT;
	o.n_tensors = ggufgen_default_tensors(GGUF_FTYPE, t, GGUFGEN_DEFAULT_TENSORS);
	o.tensors = t;
	o.extra_kvs = GGUFGEN_EXTRA_TOKENIZER;
	o.min_size = GGUF_MIN_SIZE;
	o.seed = GGUF_SEED;
	FMT(path, "%s/%s", fx.dir, files[F_GGUF].disk);
	if (ggufgen_write(path, &o) != 0)
		goto fail;

	for (size_t i = 0; i < WEIGHTS_SIZE; i += 8) {
		uint64_t v = splitmix64(&s);
		memcpy(w + i, &v, 8);
	}
	FMT(path, "%s/%s", fx.dir, files[F_WEIGHTS].disk);
	if (write_file(path, w, WEIGHTS_SIZE) != 0)
		goto fail;
	FMT(path, "%s/%s", fx.dir, files[F_CONFIG].disk);
	if (write_file(path, config_json, strlen(config_json)) != 0)
		goto fail;
	FMT(path, "%s/%s", fx.dir, files[F_README].disk);
	if (write_file(path, readme_md, strlen(readme_md)) != 0)
		goto fail;
	FMT(path, "%s/%s", fx.dir, files[F_PR].disk);
	if (write_file(path, pr_notes, strlen(pr_notes)) != 0)
		goto fail;
	FMT(path, "%s/%s", fx.dir, files[F_DATA].disk);
	if (write_file(path, data_csv, strlen(data_csv)) != 0)
		goto fail;
	free(w);

	/* Read every file back: the tests compare against what is on disk. */
	for (int i = 0; i < F_COUNT; i++) {
		struct tfile *f = &files[i];
		char ptr[256];
		FMT(path, "%s/%s", fx.dir, f->disk);
		if ((f->data = slurp(path, &f->size)) == NULL)
			return -1;
		sha256_hex(f->data, f->size, f->sha256);
		git_sha1_hex(f->data, f->size, f->gitsha1);
		FMT(ptr, LFS_POINTER_FMT, f->sha256, f->size);
		f->ptrsize = strlen(ptr);
		git_sha1_hex(ptr, f->ptrsize, f->ptrsha1);
	}
	return 0;
fail:
	free(w);
	return -1;
}

static int
group_setup(void **state)
{
	char out[400];
	(void)state;

	fx.ggufd = getenv("GGUFD");
	if (fx.ggufd == NULL || fx.ggufd[0] != '/') {
		printf("# GGUFD must be the absolute path of the ggufd binary\n");
		return -1;
	}
	FMT(fx.dir, "%s/ggufd-test-serve.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(fx.dir) == NULL) {
		fx.dir[0] = '\0';
		return -1;
	}
	FMT(fx.store, "%s/store", fx.dir);
	FMT(fx.implog, "%s/import.log", fx.dir);
	FMT(fx.srvlog, "%s/serve.log", fx.dir);
	if (make_inputs() != 0)
		return -1;

	{
		char *argv[] = { (char *)fx.ggufd,
				 "import",
				 "--store",
				 fx.store,
				 REPO,
				 (char *)files[F_GGUF].disk,
				 (char *)files[F_CONFIG].disk,
				 (char *)files[F_README].disk,
				 "weights.bin=sub/dir/weights.bin",
				 NULL };
		FMT(out, "%s/import-main.out", fx.dir);
		if (run_cmd(argv, out) != 0 || check_import(out, fx.commit) != 0) {
			printf("# import into main failed; see %s\n", fx.implog);
			return -1;
		}
	}
	{
		char *argv[] = { (char *)fx.ggufd,
				 "import",
				 "--store",
				 fx.store,
				 "--revision",
				 "refs/pr/1",
				 REPO,
				 (char *)files[F_PR].disk,
				 NULL };
		FMT(out, "%s/import-pr.out", fx.dir);
		if (run_cmd(argv, out) != 0 || check_import(out, fx.pr_commit) != 0) {
			printf("# import into refs/pr/1 failed; see %s\n", fx.implog);
			return -1;
		}
	}
	{
		char *argv[] = { (char *)fx.ggufd,
				 "import",
				 "--store",
				 fx.store,
				 "datasets/" DATASET,
				 (char *)files[F_DATA].disk,
				 NULL };
		FMT(out, "%s/import-ds.out", fx.dir);
		if (run_cmd(argv, out) != 0 || check_import(out, fx.ds_commit) != 0) {
			printf("# import into the dataset failed; see %s\n", fx.implog);
			return -1;
		}
	}
	if (server_start() != 0)
		return -1;
	printf("# ggufd at %s, main %s, refs/pr/1 %s\n", fx.base, fx.commit, fx.pr_commit);
	fflush(stdout);
	return 0;
}

static int
group_teardown(void **state)
{
	int rc = server_stop();
	(void)state;

	if (rc != 0) {
		size_t len;
		unsigned char *log = slurp(fx.srvlog, &len);
		if (log != NULL)
			printf("# serve.log tail: %s\n", (char *)log + (len > 400 ? len - 400 : 0));
		free(log);
	}
	if (fx.dir[0] != '\0' && nftw(fx.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
		rc = -1;
	for (int i = 0; i < F_COUNT; i++) {
		free(files[i].data);
		files[i].data = NULL;
	}
	return rc;
}

/* ---- resolve: headers ------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name: value" lines of r minus Date, sorted; caller frees each and the array. */
static char **
header_set(const struct resp *r, size_t *n)
{
	char **v = xmalloc((r->nh + 1) * sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < r->nh; i++) {
		size_t a = strlen(r->h[i].name), b = strlen(r->h[i].value);
		if (strcasecmp(r->h[i].name, "Date") == 0)
			continue;
		v[k] = xmalloc(a + b + 3);
		for (size_t j = 0; j < a; j++) {
			char ch = r->h[i].name[j];
			v[k][j] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
		}
		memcpy(v[k] + a, ": ", 2);
		memcpy(v[k] + a + 2, r->h[i].value, b + 1);
		k++;
	}
	qsort(v, k, sizeof(*v), cmp_str);
	*n = k;
	return v;
}

static void
assert_same_headers(const struct resp *h, const struct resp *g)
{
	size_t nh, ng;
	char **sh = header_set(h, &nh), **sg = header_set(g, &ng);
	int same = nh == ng;

	for (size_t i = 0; same && i < nh; i++)
		same = strcmp(sh[i], sg[i]) == 0;
	if (!same) {
		for (size_t i = 0; i < nh; i++)
			printf("# HEAD %s\n", sh[i]);
		for (size_t i = 0; i < ng; i++)
			printf("# GET  %s\n", sg[i]);
	}
	for (size_t i = 0; i < nh; i++)
		free(sh[i]);
	for (size_t i = 0; i < ng; i++)
		free(sg[i]);
	free(sh);
	free(sg);
	if (!same)
		fail_msg("HEAD and GET header sets differ");
}

static void
test_head_get_gguf(void **state)
{
	const struct tfile *f = &files[F_GGUF];
	struct resp h, g;
	char u[512], etag[80], size[32];
	(void)state;

	resolve_url(u, sizeof(u), "main", f->path);
	head(&h, u);
	get(&g, u);
	assert_status(&h, 200);
	assert_status(&g, 200);
	assert_same_headers(&h, &g);
	assert_body_is(&g, f);

	FMT(size, "%zu", f->size);
	etag_of(f, etag);
	assert_hdr(&h, "Content-Length", size);
	assert_hdr(&h, "ETag", etag);
	assert_hdr(&h, "X-Linked-Etag", etag);
	assert_hdr(&h, "X-Linked-Size", size);
	assert_hdr(&h, "X-Repo-Commit", fx.commit);
	assert_hdr(&h, "Accept-Ranges", "bytes");
	assert_hdr(&h, "Content-Type", "application/octet-stream");
	assert_no_hdr(&h, "Content-Encoding");
	assert_no_hdr(&h, "Location");
	assert_no_hdr(&h, "X-Xet-Hash");
	assert_no_hdr(&h, "Link");
	assert_non_null(hdr_get(&h, "Access-Control-Allow-Origin"));
	assert_true(hdr_list_has(&h, "Access-Control-Expose-Headers", "X-Repo-Commit"));
	assert_true(hdr_list_has(&h, "Access-Control-Expose-Headers", "X-Linked-Size"));
	assert_true(hdr_list_has(&h, "Access-Control-Expose-Headers", "X-Linked-Etag"));
	assert_true(hdr_list_has(&h, "Access-Control-Expose-Headers", "Content-Range"));
	assert_true(hdr_list_has(&h, "Access-Control-Expose-Headers", "ETag"));
	resp_free(&h);
	resp_free(&g);
}

static void
test_regular_file_etag(void **state)
{
	const struct tfile *f = &files[F_CONFIG];
	struct resp h, g;
	char u[512], etag[80], size[32];
	(void)state;

	resolve_url(u, sizeof(u), "main", f->path);
	head(&h, u);
	get(&g, u);
	assert_status(&h, 200);
	assert_status(&g, 200);
	assert_same_headers(&h, &g);
	assert_body_is(&g, f);
	quoted(etag, sizeof(etag), f->gitsha1);
	FMT(size, "%zu", f->size);
	assert_hdr(&h, "ETag", etag);
	assert_hdr(&h, "Content-Length", size);
	assert_hdr(&h, "X-Repo-Commit", fx.commit);
	assert_no_hdr(&h, "X-Linked-Etag");
	assert_no_hdr(&h, "X-Linked-Size");
	assert_no_hdr(&h, "Content-Encoding");
	resp_free(&h);
	resp_free(&g);
}

/* ---- resolve: ranges -------------------------------------------------- */

static void
assert_range(const struct resp *r, const struct tfile *f, uint64_t a, uint64_t b)
{
	char cr[96], cl[32];

	assert_status(r, 206);
	FMT(cr, "bytes %llu-%llu/%zu", (unsigned long long)a, (unsigned long long)b, f->size);
	FMT(cl, "%llu", (unsigned long long)(b - a + 1));
	assert_hdr(r, "Content-Range", cr);
	assert_hdr(r, "Content-Length", cl);
	if (r->blen != b - a + 1)
		fail_msg("range %s: body %zu bytes", cr, r->blen);
	assert_memory_equal(r->body, f->data + a, (size_t)(b - a + 1));
}

static void
assert_whole(const struct resp *r, const struct tfile *f)
{
	assert_status(r, 200);
	assert_no_hdr(r, "Content-Range");
	assert_body_is(r, f);
}

static void
range_get(struct resp *r, const struct tfile *f, const char *range)
{
	char u[512], h[2048];
	resolve_url(u, sizeof(u), "main", f->path);
	FMT(h, "Range: %s", range);
	get1(r, u, h);
}

static void
test_range_single(void **state)
{
	const struct tfile *f = &files[F_CONFIG];
	size_t n = f->size;
	struct resp r;
	char rg[64];
	(void)state;

	range_get(&r, f, "bytes=0-0"); /* the JS fileDownloadInfo probe */
	assert_range(&r, f, 0, 0);
	resp_free(&r);

	FMT(rg, "bytes=%zu-", n - 10);
	range_get(&r, f, rg);
	assert_range(&r, f, n - 10, n - 1);
	resp_free(&r);

	range_get(&r, f, "bytes=-7");
	assert_range(&r, f, n - 7, n - 1);
	resp_free(&r);

	FMT(rg, "bytes=-%zu", n * 5);
	range_get(&r, f, rg);
	assert_range(&r, f, 0, n - 1);
	resp_free(&r);

	range_get(&r, f, "bytes=0-1999999999");
	assert_range(&r, f, 0, n - 1);
	resp_free(&r);

	range_get(&r, f, "bytes=5-17");
	assert_range(&r, f, 5, 17);
	resp_free(&r);

	/* HEAD with a Range: same status and range headers, no body. */
	{
		char u[512];
		const char *hs[] = { "Range: bytes=0-0", NULL };
		resolve_url(u, sizeof(u), "main", f->path);
		req(&r, "HEAD", u, hs, NULL, 0);
		assert_status(&r, 206);
		FMT(rg, "bytes 0-0/%zu", n);
		assert_hdr(&r, "Content-Range", rg);
		resp_free(&r);
	}
}

static void
test_range_gguf_probe(void **state)
{
	const struct tfile *f = &files[F_GGUF];
	struct resp r;
	char rg[64];
	(void)state;

	/* The gguf() reader's first chunk and the Python resume. */
	range_get(&r, f, "bytes=0-1999999");
	assert_range(&r, f, 0, 1999999);
	assert_memory_equal(r.body, "GGUF", 4);
	resp_free(&r);
	FMT(rg, "bytes=%zu-", f->size / 2);
	range_get(&r, f, rg);
	assert_range(&r, f, f->size / 2, f->size - 1);
	resp_free(&r);
}

static void
test_range_unsatisfiable(void **state)
{
	const struct tfile *f = &files[F_CONFIG];
	struct resp r;
	char rg[64], cr[64];
	(void)state;

	FMT(cr, "bytes */%zu", f->size);
	FMT(rg, "bytes=%zu-", f->size);
	range_get(&r, f, rg);
	assert_status(&r, 416);
	assert_hdr(&r, "Content-Range", cr);
	resp_free(&r);

	FMT(rg, "bytes=%zu-%zu", f->size + 10, f->size + 20);
	range_get(&r, f, rg);
	assert_status(&r, 416);
	assert_hdr(&r, "Content-Range", cr);
	resp_free(&r);
}

static void
test_range_malformed(void **state)
{
	static const char *const bad[] = {
		"bytes=abc", "items=0-1",  "bytes=",    "bytes=5-2",
		"bytes=--1", "bytes=0-1x", "bytes 0-1", "bytes=18446744073709551616-",
	};
	const struct tfile *f = &files[F_CONFIG];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct resp r;
		range_get(&r, f, bad[i]);
		if (r.status != 200)
			fail_msg("Range: %s -> %ld, want 200 whole", bad[i], r.status);
		assert_whole(&r, f);
		resp_free(&r);
	}
}

struct part {
	uint64_t first, last, total;
	const unsigned char *data;
	size_t len;
};

static int
parse_u64_at(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s++ - '0');
	}
	*p = s;
	*v = x;
	return 0;
}

/* Parses "bytes A-B/T" in [s, end). */
static int
parse_content_range(const char *s, const char *end, struct part *pt)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (end - s < 6 || strncasecmp(s, "bytes ", 6) != 0)
		return -1;
	s += 6;
	if (parse_u64_at(&s, end, &pt->first) != 0 || s >= end || *s++ != '-' ||
	    parse_u64_at(&s, end, &pt->last) != 0 || s >= end || *s++ != '/' ||
	    parse_u64_at(&s, end, &pt->total) != 0)
		return -1;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s == end && pt->first <= pt->last ? 0 : -1;
}

/* Splits a multipart/byteranges body (RFC 9110 14.6) into parts. */
static void
parse_multipart(const struct resp *r, struct part *parts, size_t cap, size_t *n)
{
	const char *ct = hdr_get(r, "Content-Type"), *b, *be;
	char delim[200];
	const char *p = (const char *)r->body, *end = p + r->blen;
	size_t dl;

	*n = 0;
	if (ct == NULL || strncasecmp(ct, "multipart/byteranges", 20) != 0)
		fail_msg("Content-Type %s, want multipart/byteranges", ct ? ct : "(none)");
	b = strstr(ct, "boundary=");
	if (b == NULL)
		fail_msg("no boundary in %s", ct);
	b += 9;
	if (*b == '"') {
		b++;
		be = strchr(b, '"');
		if (be == NULL)
			fail_msg("unterminated boundary in %s", ct);
	} else {
		be = b + strcspn(b, "; \t");
	}
	if (be == b || be - b > 70)
		fail_msg("bad boundary in %s", ct);
	FMT(delim, "--%.*s", (int)(be - b), b);
	dl = strlen(delim);

	p = memmem(p, (size_t)(end - p), delim, dl);
	if (p == NULL)
		fail_msg("no first delimiter in the body");
	p += dl;
	for (;;) {
		const char *hend, *line;
		struct part pt = { 0, 0, 0, NULL, 0 };
		int have_cr = 0;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break; /* close delimiter */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			fail_msg("no CRLF after a delimiter at %td", p - (const char *)r->body);
		p += 2;
		hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hend == NULL)
			fail_msg("part headers do not end");
		for (line = p; line < hend;) {
			const char *le = memmem(line, (size_t)(hend - line), "\r\n", 2);
			if (le == NULL)
				le = hend;
			if (le - line > 14 && strncasecmp(line, "content-range:", 14) == 0) {
				if (parse_content_range(line + 14, le, &pt) != 0)
					fail_msg("bad part Content-Range %.*s", (int)(le - line),
						 line);
				have_cr = 1;
			}
			line = le + 2;
		}
		if (!have_cr)
			fail_msg("a part has no Content-Range");
		pt.data = (const unsigned char *)hend + 4;
		pt.len = (size_t)(pt.last - pt.first + 1);
		p = hend + 4;
		if ((size_t)(end - p) < pt.len + 2 + dl || memcmp(p + pt.len, "\r\n", 2) != 0 ||
		    memcmp(p + pt.len + 2, delim, dl) != 0)
			fail_msg("part %llu-%llu is not followed by CRLF and the delimiter",
				 (unsigned long long)pt.first, (unsigned long long)pt.last);
		if (*n == cap)
			fail_msg("too many parts");
		parts[(*n)++] = pt;
		p += pt.len + 2 + dl;
	}
}

static void
check_multipart(const struct tfile *f, const char *range, const uint64_t (*want)[2], size_t nwant)
{
	struct resp r;
	struct part parts[MAX_PARTS];
	size_t n;
	char cl[32];

	range_get(&r, f, range);
	assert_status(&r, 206);
	assert_no_hdr(&r, "Content-Range");
	FMT(cl, "%zu", r.blen);
	assert_hdr(&r, "Content-Length", cl);
	parse_multipart(&r, parts, MAX_PARTS, &n);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(parts[i].first, want[i][0]);
		assert_int_equal(parts[i].last, want[i][1]);
		assert_int_equal(parts[i].total, f->size);
		assert_memory_equal(parts[i].data, f->data + want[i][0], parts[i].len);
	}
	resp_free(&r);
}

static void
test_range_multipart(void **state)
{
	static const uint64_t two[][2] = { { 0, 9 }, { 20, 29 } };
	static const uint64_t gg[][2] = { { 0, 99 }, { 4096, 70000 }, { 1000000, 1000000 } };
	char rg[96];
	uint64_t last[][2] = { { 1, 1 }, { 0, 0 } };
	size_t n = files[F_CONFIG].size;
	(void)state;

	check_multipart(&files[F_CONFIG], "bytes=0-9,20-29", two, 2);
	check_multipart(&files[F_CONFIG], "bytes=0-9, 20-29", two, 2);
	check_multipart(&files[F_GGUF], "bytes=0-99,4096-70000,1000000-1000000", gg, 3);
	/* A suffix part and an out-of-order part. */
	last[1][0] = n - 5;
	last[1][1] = n - 1;
	FMT(rg, "bytes=1-1,-5");
	check_multipart(&files[F_CONFIG], rg, (const uint64_t(*)[2])last, 2);
}

static void
test_range_fallbacks(void **state)
{
	const struct tfile *f = &files[F_CONFIG];
	char rg[512];
	size_t k = 0;
	struct resp r;
	(void)state;

	/* 17 ranges: one more than the cap, so the whole entity. */
	k += (size_t)snprintf(rg + k, sizeof(rg) - k, "bytes=");
	for (int i = 0; i < 17; i++)
		k += (size_t)snprintf(rg + k, sizeof(rg) - k, "%s%d-%d", i ? "," : "", 2 * i,
				      2 * i);
	assert_true(k < sizeof(rg));
	range_get(&r, f, rg);
	assert_whole(&r, f);
	resp_free(&r);

	/* One satisfiable range of two: 206 with just that part, single or multipart. */
	FMT(rg, "bytes=3-4,%zu-", f->size + 100);
	range_get(&r, f, rg);
	assert_status(&r, 206);
	if (hdr_get(&r, "Content-Range") != NULL) {
		assert_range(&r, f, 3, 4);
	} else {
		struct part parts[MAX_PARTS];
		size_t n;
		parse_multipart(&r, parts, MAX_PARTS, &n);
		assert_int_equal(n, 1);
		assert_int_equal(parts[0].first, 3);
		assert_int_equal(parts[0].last, 4);
		assert_memory_equal(parts[0].data, f->data + 3, 2);
	}
	resp_free(&r);

	/* Overlapping ranges that add up to more than the file. */
	FMT(rg, "bytes=0-%zu,1-%zu", f->size - 1, f->size - 1);
	range_get(&r, f, rg);
	assert_whole(&r, f);
	resp_free(&r);
}

static void
test_if_range(void **state)
{
	const struct tfile *f = &files[F_CONFIG];
	char u[512], etag[80], ir[128], wk[128];
	struct resp r;
	(void)state;

	resolve_url(u, sizeof(u), "main", f->path);
	etag_of(f, etag);
	FMT(ir, "If-Range: %s", etag);
	{
		const char *hs[] = { "Range: bytes=0-0", ir, NULL };
		req(&r, "GET", u, hs, NULL, 0);
		assert_range(&r, f, 0, 0);
		resp_free(&r);
	}
	{
		const char *hs[] = { "Range: bytes=0-0",
				     "If-Range: \"0000000000000000000000000000000000000000\"",
				     NULL };
		req(&r, "GET", u, hs, NULL, 0);
		assert_whole(&r, f);
		resp_free(&r);
	}
	FMT(wk, "If-Range: W/%s", etag);
	{
		const char *hs[] = { "Range: bytes=0-0", wk, NULL };
		req(&r, "GET", u, hs, NULL, 0);
		assert_whole(&r, f);
		resp_free(&r);
	}
}

static void
test_if_none_match(void **state)
{
	char u[512], etag[80], h[128];
	struct resp r;
	(void)state;

	for (int i = 0; i < 2; i++) {
		const struct tfile *f = &files[i == 0 ? F_CONFIG : F_GGUF];
		resolve_url(u, sizeof(u), "main", f->path);
		etag_of(f, etag);
		FMT(h, "If-None-Match: %s", etag);
		get1(&r, u, h);
		assert_status(&r, 304);
		assert_int_equal(r.blen, 0);
		assert_hdr(&r, "ETag", etag);
		resp_free(&r);

		get1(&r, u, "If-None-Match: \"not-the-etag\"");
		assert_whole(&r, f);
		resp_free(&r);
	}

	/* RFC 9110 13.1.2: "*", a list, weak comparison; it wins over Range. */
	{
		const struct tfile *f = &files[F_CONFIG];
		char list[200], weak[128];
		resolve_url(u, sizeof(u), "main", f->path);
		etag_of(f, etag);
		FMT(h, "If-None-Match: %s", etag);
		FMT(list, "If-None-Match: \"x\", %s", etag);
		FMT(weak, "If-None-Match: W/%s", etag);
		const char *const cases[] = { "If-None-Match: *", list, weak };
		for (size_t i = 0; i < 3; i++) {
			get1(&r, u, cases[i]);
			if (r.status != 304)
				fail_msg("%s -> %ld, want 304", cases[i], r.status);
			resp_free(&r);
		}
		const char *hs[] = { h, "Range: bytes=0-0", NULL };
		req(&r, "GET", u, hs, NULL, 0);
		assert_status(&r, 304);
		resp_free(&r);
	}
}

static void
test_random_ranges(void **state)
{
	const struct tfile *f = &files[F_GGUF];
	uint64_t s = RANGE_SEED, size = f->size;
	(void)state;

	for (int i = 0; i < N_RANDOM_RANGES; i++) {
		uint64_t a, b;
		char rg[96];
		struct resp r;

		switch (i) {
		case 0:
			a = 0;
			b = 0;
			break;
		case 1:
			a = size - 1;
			b = size - 1;
			break;
		case 2:
			a = 0;
			b = size - 1;
			break;
		case 3:
			a = size - 2;
			b = size - 1;
			break;
		default:
			a = rnd_below(&s, size);
			/* Mostly short spans, some long ones, some that hit the end. */
			switch (rnd_below(&s, 4)) {
			case 0: b = a + rnd_below(&s, 16); break;
			case 1: b = a + rnd_below(&s, 65536); break;
			case 2: b = a + rnd_below(&s, 1u << 20); break;
			default: b = size - 1; break;
			}
			if (b > size - 1)
				b = size - 1;
		}
		if (i % 7 == 5 && b == size - 1)
			FMT(rg, "bytes=%llu-", (unsigned long long)a);
		else if (i % 11 == 6 && b == size - 1)
			FMT(rg, "bytes=-%llu", (unsigned long long)(size - a));
		else
			FMT(rg, "bytes=%llu-%llu", (unsigned long long)a, (unsigned long long)b);
		range_get(&r, f, rg);
		if (r.status != 206 || r.blen != b - a + 1 ||
		    memcmp(r.body, f->data + a, r.blen) != 0)
			fail_msg("range #%d %s: status %ld, %zu bytes, want 206 and %llu exact "
				 "bytes",
				 i, rg, r.status, r.blen, (unsigned long long)(b - a + 1));
		assert_range(&r, f, a, b);
		resp_free(&r);
	}
}

/* ---- resolve: whole files and revisions -------------------------------- */

static void
test_full_get_every_file(void **state)
{
	char u[512];
	struct resp r;
	(void)state;

	for (int i = 0; i < N_MAIN; i++) {
		resolve_url(u, sizeof(u), "main", files[i].path);
		get(&r, u);
		assert_status(&r, 200);
		assert_body_is(&r, &files[i]);
		resp_free(&r);
	}
	resolve_url(u, sizeof(u), "refs%2Fpr%2F1", files[F_PR].path);
	get(&r, u);
	assert_status(&r, 200);
	assert_body_is(&r, &files[F_PR]);
	resp_free(&r);
	FMT(u, "/datasets/" DATASET "/resolve/main/%s", files[F_DATA].path);
	get(&r, u);
	assert_status(&r, 200);
	assert_body_is(&r, &files[F_DATA]);
	resp_free(&r);
}

static void
test_concurrent_gets(void **state)
{
	const struct tfile *f = &files[F_GGUF];
	struct resp rs[N_CONCURRENT];
	CURL *cs[N_CONCURRENT];
	static char urls[N_CONCURRENT][600];
	CURLM *m = curl_multi_init();
	char u[512];
	int running = 1, polls = 0, done = 0, msgs;
	CURLMsg *msg;
	(void)state;

	assert_non_null(m);
	resolve_url(u, sizeof(u), "main", f->path);
	for (int i = 0; i < N_CONCURRENT; i++) {
		memset(&rs[i], 0, sizeof(rs[i]));
		cs[i] = easy_new("GET", u, NULL, NULL, 0, &rs[i], urls[i], sizeof(urls[i]));
		curl_multi_add_handle(m, cs[i]);
	}
	while (running && polls++ < MULTI_MAX_POLLS) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(m, NULL, 0, MULTI_POLL_MS, NULL);
	}
	while ((msg = curl_multi_info_read(m, &msgs)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (int i = 0; i < N_CONCURRENT; i++) {
			if (msg->easy_handle != cs[i])
				continue;
			if (msg->data.result != CURLE_OK)
				fail_msg("transfer %d: %s", i,
					 curl_easy_strerror(msg->data.result));
			curl_easy_getinfo(cs[i], CURLINFO_RESPONSE_CODE, &rs[i].status);
			done++;
		}
	}
	assert_int_equal(done, N_CONCURRENT);
	for (int i = 0; i < N_CONCURRENT; i++) {
		assert_status(&rs[i], 200);
		assert_body_is(&rs[i], f);
		curl_multi_remove_handle(m, cs[i]);
		curl_easy_cleanup(cs[i]);
		resp_free(&rs[i]);
	}
	curl_multi_cleanup(m);
}

static void
test_revisions(void **state)
{
	char short7[8], u[512], etag[80];
	const char *revs[] = { "main", fx.commit, short7, "HEAD" };
	(void)state;

	memcpy(short7, fx.commit, 7);
	short7[7] = '\0';
	for (size_t i = 0; i < sizeof(revs) / sizeof(revs[0]); i++) {
		struct resp r;
		resolve_url(u, sizeof(u), revs[i], files[F_GGUF].path);
		head(&r, u);
		if (r.status != 200)
			fail_msg("HEAD %s -> %ld", u, r.status);
		assert_hdr(&r, "X-Repo-Commit", fx.commit);
		etag_of(&files[F_GGUF], etag);
		assert_hdr(&r, "ETag", etag);
		resp_free(&r);

		resolve_url(u, sizeof(u), revs[i], files[F_CONFIG].path);
		get(&r, u);
		if (r.status != 200)
			fail_msg("GET %s -> %ld", u, r.status);
		assert_body_is(&r, &files[F_CONFIG]);
		assert_hdr(&r, "X-Repo-Commit", fx.commit);
		resp_free(&r);
	}
}

static void
test_pr_revision(void **state)
{
	char u[512];
	struct resp r;
	(void)state;

	/* Python quotes the ref; JS listFiles-style callers send it raw. */
	static const char *const revs[] = { "refs%2Fpr%2F1", "refs/pr/1" };
	for (size_t i = 0; i < 2; i++) {
		resolve_url(u, sizeof(u), revs[i], files[F_PR].path);
		get(&r, u);
		if (r.status != 200)
			fail_msg("GET %s -> %ld", u, r.status);
		assert_body_is(&r, &files[F_PR]);
		assert_hdr(&r, "X-Repo-Commit", fx.pr_commit);
		resp_free(&r);
	}
	FMT(u, "/" REPO "/resolve/%s/%s", fx.pr_commit, files[F_PR].path);
	head(&r, u);
	assert_status(&r, 200);
	resp_free(&r);

	/* The PR file is not on main. */
	resolve_url(u, sizeof(u), "main", files[F_PR].path);
	get(&r, u);
	assert_status(&r, 404);
	assert_hdr(&r, "X-Error-Code", "EntryNotFound");
	resp_free(&r);
}

static void
test_dataset_resolve(void **state)
{
	char u[512], size[32];
	struct resp r;
	(void)state;

	FMT(u, "/datasets/" DATASET "/resolve/main/%s", files[F_DATA].path);
	head(&r, u);
	assert_status(&r, 200);
	assert_hdr(&r, "X-Repo-Commit", fx.ds_commit);
	FMT(size, "%zu", files[F_DATA].size);
	assert_hdr(&r, "Content-Length", size);
	resp_free(&r);
	/* The same name without the datasets/ prefix is a model repo that does not exist. */
	FMT(u, "/" DATASET "/resolve/main/%s", files[F_DATA].path);
	get(&r, u);
	assert_status(&r, 401);
	assert_hdr(&r, "X-Error-Code", "RepoNotFound");
	resp_free(&r);
}

static void
test_subfolder_and_escapes(void **state)
{
	const struct tfile *w = &files[F_WEIGHTS];
	char u[512], etag[80], size[32];
	struct resp r;
	(void)state;

	resolve_url(u, sizeof(u), "main", w->path);
	get(&r, u);
	assert_status(&r, 200);
	assert_body_is(&r, w);
	etag_of(w, etag);
	FMT(size, "%zu", w->size);
	assert_hdr(&r, "ETag", etag);
	assert_hdr(&r, "X-Linked-Size", size);
	resp_free(&r);

	/* Percent-encoded segments, as quote() or a careful client sends them. */
	get(&r, "/" REPO "/resolve/main/ruvltra%2D0.5b%2Dq4_k_m.gguf");
	assert_status(&r, 200);
	assert_body_is(&r, &files[F_GGUF]);
	resp_free(&r);
	get(&r, "/" REPO "/resolve/main/s%75b/dir/%77eights.bin");
	assert_status(&r, 200);
	assert_body_is(&r, w);
	resp_free(&r);
	get(&r, "/" REPO "/resolve/m%61in/config%2Ejson");
	assert_status(&r, 200);
	assert_body_is(&r, &files[F_CONFIG]);
	resp_free(&r);
}

static void
test_raw(void **state)
{
	char u[512], etag[80], ptr[256];
	struct resp r;
	const struct tfile *g = &files[F_GGUF], *c = &files[F_CONFIG];
	(void)state;

	/* /raw/ of an LFS file is its pointer, with the pointer's git oid (2.2). */
	FMT(u, "/" REPO "/raw/main/%s", g->path);
	get(&r, u);
	assert_status(&r, 200);
	FMT(ptr, LFS_POINTER_FMT, g->sha256, g->size);
	assert_int_equal(r.blen, strlen(ptr));
	assert_memory_equal(r.body, ptr, r.blen);
	quoted(etag, sizeof(etag), g->ptrsha1);
	assert_hdr(&r, "ETag", etag);
	assert_hdr(&r, "X-Repo-Commit", fx.commit);
	resp_free(&r);

	/* JS fileExists: HEAD /raw/. */
	FMT(u, "/" REPO "/raw/main/%s", c->path);
	head(&r, u);
	assert_status(&r, 200);
	quoted(etag, sizeof(etag), c->gitsha1);
	assert_hdr(&r, "ETag", etag);
	resp_free(&r);
	get(&r, u);
	assert_status(&r, 200);
	assert_body_is(&r, c);
	resp_free(&r);
	head(&r, "/" REPO "/raw/main/nope.txt");
	assert_status(&r, 404);
	assert_hdr(&r, "X-Error-Code", "EntryNotFound");
	resp_free(&r);
}

/* ---- errors ----------------------------------------------------------- */

static void
assert_json_error(const struct resp *r)
{
	const char *ct = hdr_get(r, "Content-Type");
	cJSON *j;
	const cJSON *e;

	if (ct == NULL || strncmp(ct, "application/json", 16) != 0)
		fail_msg("error Content-Type %s, want application/json", ct ? ct : "(none)");
	j = json_of(r);
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
		fail_msg("no \"error\" string in %s", (const char *)r->body);
	cJSON_Delete(j);
}

static void
test_entry_not_found(void **state)
{
	char u[512];
	struct resp r;
	(void)state;

	resolve_url(u, sizeof(u), "main", "nope.gguf");
	get(&r, u);
	assert_status(&r, 404);
	assert_hdr(&r, "X-Error-Code", "EntryNotFound");
	assert_hdr(&r, "X-Repo-Commit", fx.commit);
	assert_json_error(&r);
	resp_free(&r);

	head(&r, u);
	assert_status(&r, 404);
	assert_hdr(&r, "X-Error-Code", "EntryNotFound");
	assert_hdr(&r, "X-Repo-Commit", fx.commit);
	assert_non_null(hdr_get(&r, "X-Error-Message"));
	assert_true(hdr_get(&r, "X-Error-Message")[0] != '\0');
	resp_free(&r);

	/* A directory is not a file. */
	resolve_url(u, sizeof(u), "main", "sub/dir");
	get(&r, u);
	assert_status(&r, 404);
	assert_hdr(&r, "X-Error-Code", "EntryNotFound");
	resp_free(&r);
}

static void
test_revision_not_found(void **state)
{
	static const char *const revs[] = {
		"no-such-branch",
		"0123456789abcdef0123456789abcdef01234567",
		"refs%2Fpr%2F99",
	};
	char u[512];
	struct resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(revs) / sizeof(revs[0]); i++) {
		resolve_url(u, sizeof(u), revs[i], files[F_CONFIG].path);
		get(&r, u);
		if (r.status != 404)
			fail_msg("GET %s -> %ld, want 404", u, r.status);
		assert_hdr(&r, "X-Error-Code", "RevisionNotFound");
		assert_json_error(&r);
		resp_free(&r);
		head(&r, u);
		assert_status(&r, 404);
		assert_hdr(&r, "X-Error-Code", "RevisionNotFound");
		assert_non_null(hdr_get(&r, "X-Error-Message"));
		resp_free(&r);
	}
	get(&r, "/api/models/" REPO "/revision/no-such-branch");
	assert_status(&r, 404);
	assert_hdr(&r, "X-Error-Code", "RevisionNotFound");
	resp_free(&r);
}

static void
test_repo_not_found(void **state)
{
	static const char *const urls[] = {
		"/ruv/nope/resolve/main/config.json",
		"/nobody/ruvltra/resolve/main/config.json",
		"/datasets/" REPO "/resolve/main/config.json",
		"/api/models/ruv/nope",
		"/api/models/ruv/nope/tree/main",
	};
	struct resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		get(&r, urls[i]);
		if (r.status != 401)
			fail_msg("GET %s -> %ld, want 401", urls[i], r.status);
		assert_hdr(&r, "X-Error-Code", "RepoNotFound");
		assert_json_error(&r);
		resp_free(&r);
	}
	head(&r, urls[0]);
	assert_status(&r, 401);
	assert_hdr(&r, "X-Error-Code", "RepoNotFound");
	assert_non_null(hdr_get(&r, "X-Error-Message"));
	resp_free(&r);
}

static void
test_method_not_allowed(void **state)
{
	char u[512];
	struct resp r;
	const char *allow;
	(void)state;

	resolve_url(u, sizeof(u), "main", files[F_CONFIG].path);
	req(&r, "DELETE", u, NULL, NULL, 0);
	assert_status(&r, 405);
	allow = hdr_get(&r, "Allow");
	assert_non_null(allow);
	assert_true(hdr_list_has(&r, "Allow", "GET"));
	assert_true(hdr_list_has(&r, "Allow", "HEAD"));
	assert_false(hdr_list_has(&r, "Allow", "DELETE"));
	resp_free(&r);
}

/*
 * The route table: every route's 405 carries an Allow header built from
 * its row, and the token rule is applied before any handler runs, for
 * ggufd's own routes as for the Hub's.
 */
static void
test_route_table(void **state)
{
	static const struct {
		const char *method, *path;
		const char *allowed[3], *refused;
	} m405[] = {
		{ "GET", "/_ggufd/lfs/" LFS_OID, { "PUT" }, "GET" },
		{ "PUT", "/_ggufd/lfs/" LFS_OID "/complete", { "POST" }, "PUT" },
		{ "PUT", "/api/ggufd/uploads", { "GET", "HEAD" }, "PUT" },
		{ "DELETE", "/api/ggufd/pull", { "GET", "HEAD", "POST" }, "DELETE" },
		{ "GET", "/api/ggufd/upload/ruv/ruvltra/a.gguf", { "PUT" }, "GET" },
		{ "GET", "/api/models/" REPO "/commit/main", { "POST" }, "GET" },
		{ "POST", "/api/whoami-v2", { "GET", "HEAD" }, "POST" },
	};
	static const struct {
		const char *method, *path, *auth;
		long status;
		const char *code; /* X-Error-Code, or NULL: not checked */
	} refused[] = {
		/* No token, or one ggufd does not know: 401 before the handler. */
		{ "GET", "/api/ggufd/uploads", NULL, 401, NULL },
		{ "GET", "/api/ggufd/uploads/3", "Authorization: Bearer hf_nope", 401, NULL },
		{ "POST", "/api/models/" REPO "/commit/main", NULL, 401, NULL },
		{ "POST", "/api/models/" REPO "/preupload/main", "Authorization: Bearer x", 401,
		  NULL },
		{ "GET", "/api/whoami-v2", NULL, 401, NULL },
		/* Signed hrefs carry their own credential. */
		{ "PUT", "/_ggufd/lfs/" LFS_OID, NULL, 403, "InvalidSignature" },
		/* Loopback passes the admin rule while no admin token exists;
		 * then the route needs an upstream. */
		{ "GET", "/api/ggufd/pull", NULL, 409, "NoUpstream" },
		{ "GET", "/api/ggufd/pull/1", NULL, 409, "NoUpstream" },
		{ "GET", "/api/ggufd/nope", NULL, 404, NULL },
		{ "GET", "/api/ggufd/uploads/0", NULL, 400, NULL },
		{ "GET", "/_ggufd/lfs/" LFS_OID "/part/0", NULL, 404, NULL },
	};
	char u[1024];
	struct resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(m405) / sizeof(m405[0]); i++) {
		FMT(u, "%s%s", fx.base, m405[i].path);
		req(&r, m405[i].method, u, NULL, NULL, 0);
		if (r.status != 405)
			fail_msg("%s %s: status %ld", m405[i].method, m405[i].path, r.status);
		for (size_t j = 0; j < 3 && m405[i].allowed[j] != NULL; j++)
			if (!hdr_list_has(&r, "Allow", m405[i].allowed[j]))
				fail_msg("%s: Allow lacks %s", m405[i].path, m405[i].allowed[j]);
		assert_true(hdr_list_has(&r, "Allow", "OPTIONS"));
		assert_false(hdr_list_has(&r, "Allow", m405[i].refused));
		assert_non_null(hdr_get(&r, "X-Error-Message"));
		resp_free(&r);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *hdrs[] = { refused[i].auth, NULL };
		FMT(u, "%s%s", fx.base, refused[i].path);
		req(&r, refused[i].method, u, refused[i].auth ? hdrs : NULL, NULL, 0);
		if (r.status != refused[i].status)
			fail_msg("%s %s: status %ld, want %ld", refused[i].method, refused[i].path,
				 r.status, refused[i].status);
		assert_non_null(hdr_get(&r, "X-Error-Message"));
		if (refused[i].code != NULL)
			assert_hdr(&r, "X-Error-Code", refused[i].code);
		resp_free(&r);
	}
}

/*
 * The dashboard: "/" and the /ui/ files are served from memory with a strong ETag
 * (304 on If-None-Match), gzip for clients that take it, and a strict
 * Content-Security-Policy; /api/ggufd/repos lists the store.
 */
static void
test_dashboard(void **state)
{
	struct resp r;
	char etag[128], inm[160];
	const char *h;
	(void)state;

	get(&r, "/");
	assert_status(&r, 200);
	assert_non_null(strstr(hdr_get(&r, "Content-Type"), "text/html"));
	h = hdr_get(&r, "Content-Security-Policy");
	assert_non_null(h);
	assert_non_null(strstr(h, "script-src 'self'"));
	assert_null(strstr(h, "unsafe-inline"));
	assert_hdr(&r, "X-Content-Type-Options", "nosniff");
	assert_non_null(strstr((char *)r.body, "/ui/app.js"));
	h = hdr_get(&r, "ETag");
	assert_non_null(h);
	assert_int_equal(strlen(h), 66); /* "<64 hex>" */
	FMT(etag, "%s", h);
	resp_free(&r);

	FMT(inm, "If-None-Match: %s", etag);
	{
		const char *hdrs[] = { inm, NULL };
		req(&r, "GET", "/", hdrs, NULL, 0);
		assert_status(&r, 304);
		assert_int_equal(r.blen, 0);
		resp_free(&r);
	}
	{
		const char *hdrs[] = { "Accept-Encoding: gzip", NULL };
		req(&r, "GET", "/ui/app.js", hdrs, NULL, 0);
		assert_status(&r, 200);
		assert_hdr(&r, "Content-Encoding", "gzip");
		assert_true(r.blen > 2 && r.body[0] == 0x1f && r.body[1] == 0x8b);
		assert_non_null(strstr(hdr_get(&r, "Content-Type"), "javascript"));
		resp_free(&r);
	}
	get(&r, "/ui/app.css");
	assert_status(&r, 200);
	assert_null(hdr_get(&r, "Content-Encoding"));
	assert_non_null(strstr(hdr_get(&r, "Content-Type"), "text/css"));
	resp_free(&r);
	get(&r, "/ui/nope.js");
	assert_status(&r, 404);
	resp_free(&r);
	get(&r, "/ui/%2e%2e");
	assert_status(&r, 400);
	resp_free(&r);

	get(&r, "/api/ggufd/repos");
	assert_status(&r, 200);
	assert_non_null(strstr((char *)r.body, "\"id\":\"" REPO "\""));
	assert_non_null(strstr((char *)r.body, "\"main\":\""));
	resp_free(&r);
}

/* The value of a metric line "NAME VALUE" in a /metrics answer, or -1. */
static long long
metric(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ') {
			uint64_t v;
			const char *e = p + n + 1;
			if (parse_u64_at(&e, e + 24, &v) == 0 && v < (uint64_t)INT64_MAX)
				return (long long)v;
			return -1;
		}
		p += n;
	}
	return -1;
}

/* GET /metrics: Prometheus text whose counters move as requests are made. */
static void
test_metrics(void **state)
{
	static const char served[] = "ggufd_served_bytes_total{source=\"store\"}";
	static const char ok206[] = "ggufd_http_requests_total{route=\"resolve\",code=\"206\"}";
	static const char nf[] = "ggufd_http_requests_total{route=\"none\",code=\"404\"}";
	long long s0, s1, r0, r1, n0, n1;
	char u[512];
	struct resp r;
	(void)state;

	get(&r, "/metrics");
	assert_status(&r, 200);
	assert_non_null(strstr(hdr_get(&r, "Content-Type"), "text/plain; version=0.0.4"));
	assert_non_null(strstr((char *)r.body, "# TYPE ggufd_http_requests_total counter"));
	assert_non_null(
		strstr((char *)r.body, "# TYPE ggufd_http_request_duration_seconds histogram"));
	assert_true(metric((char *)r.body, "ggufd_store_blobs") > 0);
	s0 = metric((char *)r.body, served);
	r0 = metric((char *)r.body, ok206);
	n0 = metric((char *)r.body, nf);
	resp_free(&r);

	resolve_url(u, sizeof(u), "main", files[F_CONFIG].path);
	{
		const char *hdrs[] = { "Range: bytes=0-9", NULL };
		req(&r, "GET", u, hdrs, NULL, 0);
		assert_status(&r, 206);
		resp_free(&r);
	}
	get(&r, "/no/such/thing/at/all/here");
	assert_status(&r, 404);
	resp_free(&r);

	get(&r, "/metrics");
	assert_status(&r, 200);
	s1 = metric((char *)r.body, served);
	r1 = metric((char *)r.body, ok206);
	n1 = metric((char *)r.body, nf);
	resp_free(&r);
	assert_true(s1 >= (s0 < 0 ? 0 : s0) + 10);
	assert_int_equal(r1, (r0 < 0 ? 0 : r0) + 1);
	assert_int_equal(n1, (n0 < 0 ? 0 : n0) + 1);
}

/* GET /api/ggufd/files: a revision's files with their blobs, searched and
 * paged by the server; bad parameters are 400, an unknown repo 401. */
static void
test_files_api(void **state)
{
	struct resp r;
	(void)state;

	get(&r, "/api/ggufd/files?repo=" REPO "&limit=1");
	assert_status(&r, 200);
	assert_non_null(strstr((char *)r.body, "\"commit\":\""));
	assert_non_null(strstr((char *)r.body, "\"present\":true"));
	assert_null(strstr((char *)r.body, "},{")); /* one file on the page */
	resp_free(&r);
	get(&r, "/api/ggufd/files?repo=" REPO "&q=Q4_K_M");
	assert_status(&r, 200);
	assert_non_null(strstr((char *)r.body, "\"total\":1,"));
	assert_non_null(strstr((char *)r.body, "\"gguf\":{\"arch\":"));
	resp_free(&r);
	get(&r, "/api/ggufd/files?repo=" REPO "&q=no-such-file-anywhere");
	assert_status(&r, 200);
	assert_non_null(strstr((char *)r.body, "\"total\":0,"));
	resp_free(&r);
	get(&r, "/api/ggufd/files?repo=" REPO "&limit=0");
	assert_status(&r, 400);
	resp_free(&r);
	get(&r, "/api/ggufd/files?repo=..%2Fx");
	assert_status(&r, 400);
	resp_free(&r);
	get(&r, "/api/ggufd/files");
	assert_status(&r, 400);
	resp_free(&r);
	get(&r, "/api/ggufd/files?repo=nobody/nothing");
	assert_status(&r, 401);
	assert_hdr(&r, "X-Error-Code", "RepoNotFound");
	resp_free(&r);
}

static void
test_bad_paths(void **state)
{
	static const char *const bad[] = {
		"/" REPO "/resolve/main/%zz",
		"/" REPO "/resolve/main/config%zz.json",
		"/" REPO "/resolve/main/config.json%",
		"/" REPO "/resolve/main/config.json%2",
		"/" REPO "/resolve/main/..",
		"/" REPO "/resolve/main/sub/../config.json",
		"/" REPO "/resolve/main/%2e%2e/config.json",
		"/" REPO "/resolve/main/sub/%2E%2E/config.json",
		"/" REPO "/resolve/main/sub/dir/%2e%2e/%2e%2e/config.json",
		"/" REPO "/resolve/main/./config.json",
		"/" REPO "/resolve/main/config.json%00",
		"/" REPO "/resolve/main/config.json%00.txt",
		"/" REPO "/resolve/%2e%2e/config.json",
		"/" REPO "/resolve/main%00/config.json",
		"/ruv/%2e%2e/resolve/main/config.json",
		"/api/models/" REPO "/tree/main/%2e%2e",
		"/api/models/" REPO "/tree/main/sub/%00",
	};
	struct resp r;
	int failed = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		get(&r, bad[i]);
		if (r.status != 400) {
			printf("# GET %s -> %ld, want 400\n", bad[i], r.status);
			failed++;
		}
		if (r.status == 200)
			fail_msg("GET %s served a file", bad[i]);
		resp_free(&r);
	}
	assert_int_equal(failed, 0);
}

static void
test_long_url(void **state)
{
	static char u[LONG_URL_BYTES + 64];
	struct resp r;
	size_t k;
	(void)state;

	FMT(u, "/" REPO "/resolve/main/");
	k = strlen(u);
	memset(u + k, 'a', LONG_URL_BYTES);
	u[k + LONG_URL_BYTES] = '\0';
	get(&r, u);
	assert_status(&r, 414);
	resp_free(&r);
	get(&r, "/healthz");
	assert_status(&r, 200);
	resp_free(&r);
}

static void
test_big_header(void **state)
{
	static char h[BIG_HEADER_BYTES + 32];
	const char *hs[] = { h, NULL };
	struct resp r;
	CURLcode cc;
	(void)state;

	memcpy(h, "X-Big: ", 7);
	memset(h + 7, 'b', BIG_HEADER_BYTES);
	h[7 + BIG_HEADER_BYTES] = '\0';
	cc = http(&r, "GET", "/healthz", hs, NULL, 0);
	if (cc != CURLE_OK)
		fail_msg("40 KB header: no HTTP answer (%s), want 431 or 413",
			 curl_easy_strerror(cc));
	if (r.status != 431 && r.status != 413)
		fail_msg("40 KB header -> %ld, want 431 or 413", r.status);
	resp_free(&r);
	get(&r, "/healthz");
	assert_status(&r, 200);
	resp_free(&r);
}

static void
test_options_preflight(void **state)
{
	const char *hs[] = { "Origin: http://example.test", "Access-Control-Request-Method: GET",
			     "Access-Control-Request-Headers: range, authorization", NULL };
	char u[512];
	struct resp r;
	(void)state;

	resolve_url(u, sizeof(u), "main", files[F_GGUF].path);
	req(&r, "OPTIONS", u, hs, NULL, 0);
	assert_status(&r, 204);
	assert_non_null(hdr_get(&r, "Access-Control-Allow-Origin"));
	assert_true(hdr_list_has(&r, "Access-Control-Allow-Methods", "GET"));
	assert_true(hdr_list_has(&r, "Access-Control-Allow-Methods", "HEAD"));
	assert_non_null(hdr_get(&r, "Access-Control-Max-Age"));
	assert_true(hdr_list_has(&r, "Access-Control-Allow-Headers", "Range"));
	assert_true(hdr_list_has(&r, "Access-Control-Allow-Headers", "Authorization"));
	assert_int_equal(r.blen, 0);
	resp_free(&r);
}

static void
test_healthz(void **state)
{
	struct resp r;
	(void)state;

	get(&r, "/healthz");
	assert_status(&r, 200);
	resp_free(&r);
	head(&r, "/healthz");
	assert_status(&r, 200);
	resp_free(&r);
}

/* ---- API: repo info --------------------------------------------------- */

static cJSON *
get_json(const char *u, long want)
{
	struct resp r;
	cJSON *j;
	const char *ct;

	get(&r, u);
	if (r.status != want)
		fail_msg("GET %s -> %ld, want %ld: %.200s", u, r.status, want,
			 (const char *)r.body);
	ct = hdr_get(&r, "Content-Type");
	if (ct == NULL || strncmp(ct, "application/json", 16) != 0)
		fail_msg("GET %s: Content-Type %s", u, ct ? ct : "(none)");
	j = json_of(&r);
	resp_free(&r);
	return j;
}

static void
test_api_info(void **state)
{
	cJSON *j = get_json("/api/models/" REPO, 200);
	const cJSON *sib, *g;
	(void)state;

	assert_string_equal(jstr(j, "id"), REPO);
	assert_non_null(jstr(j, "_id"));
	assert_string_equal(jstr(j, "sha"), fx.commit);
	sib = cJSON_GetObjectItemCaseSensitive(j, "siblings");
	assert_true(cJSON_IsArray(sib));
	assert_int_equal(cJSON_GetArraySize(sib), N_MAIN);
	for (int i = 0; i < N_MAIN; i++)
		if (find_by(sib, "rfilename", files[i].path) == NULL)
			fail_msg("siblings lack %s", files[i].path);
	assert_null(find_by(sib, "rfilename", files[F_PR].path));
	g = cJSON_GetObjectItemCaseSensitive(j, "gguf");
	assert_true(cJSON_IsObject(g));
	assert_string_equal(jstr(g, "architecture"), GGUF_ARCH);
	cJSON_Delete(j);

	/* The dataset. */
	j = get_json("/api/datasets/" DATASET, 200);
	assert_string_equal(jstr(j, "id"), DATASET);
	assert_string_equal(jstr(j, "sha"), fx.ds_commit);
	assert_non_null(find_by(cJSON_GetObjectItemCaseSensitive(j, "siblings"), "rfilename",
				files[F_DATA].path));
	cJSON_Delete(j);
}

static void
test_api_info_blobs(void **state)
{
	cJSON *j = get_json("/api/models/" REPO "?blobs=true", 200);
	const cJSON *sib = cJSON_GetObjectItemCaseSensitive(j, "siblings"), *e, *lfs;
	(void)state;

	for (int i = 0; i < N_MAIN; i++) {
		e = find_by(sib, "rfilename", files[i].path);
		assert_non_null(e);
		if (!jnum_is(e, "size", (double)files[i].size))
			fail_msg("%s: size missing or wrong", files[i].path);
		lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs");
		if (!files[i].lfs) {
			assert_null(lfs);
			continue;
		}
		assert_true(cJSON_IsObject(lfs));
		assert_string_equal(jstr(lfs, "sha256"), files[i].sha256);
		assert_true(jnum_is(lfs, "size", (double)files[i].size));
		assert_true(jnum_is(lfs, "pointerSize", (double)files[i].ptrsize));
	}
	cJSON_Delete(j);
}

static void
test_api_info_revision_and_expand(void **state)
{
	cJSON *a = get_json("/api/models/" REPO, 200);
	cJSON *b = get_json("/api/models/" REPO "/revision/main", 200), *c;
	char u[256];
	const cJSON *it;
	(void)state;

	if (!cJSON_Compare(a, b, 1)) {
		char *sa = cJSON_PrintUnformatted(a), *sb = cJSON_PrintUnformatted(b);
		printf("# info: %s\n# revision/main: %s\n", sa, sb);
		free(sa);
		free(sb);
		fail_msg("/revision/main differs from the plain repo info");
	}
	cJSON_Delete(a);
	cJSON_Delete(b);

	FMT(u, "/api/models/" REPO "/revision/%s", fx.commit);
	c = get_json(u, 200);
	assert_string_equal(jstr(c, "sha"), fx.commit);
	cJSON_Delete(c);
	c = get_json("/api/models/" REPO "/revision/HEAD", 200);
	assert_string_equal(jstr(c, "sha"), fx.commit);
	cJSON_Delete(c);
	c = get_json("/api/models/" REPO "/revision/refs%2Fpr%2F1", 200);
	assert_string_equal(jstr(c, "sha"), fx.pr_commit);
	assert_non_null(find_by(cJSON_GetObjectItemCaseSensitive(c, "siblings"), "rfilename",
				files[F_PR].path));
	cJSON_Delete(c);

	/* expand=sha: only _id, id and sha (HF-PROTOCOL.md 3.1), also as expand[]=. */
	static const char *const ex[] = { "/api/models/" REPO "?expand=sha",
					  "/api/models/" REPO "/revision/HEAD?expand%5B%5D=sha" };
	for (size_t k = 0; k < 2; k++) {
		c = get_json(ex[k], 200);
		assert_string_equal(jstr(c, "id"), REPO);
		assert_non_null(jstr(c, "_id"));
		assert_string_equal(jstr(c, "sha"), fx.commit);
		assert_null(cJSON_GetObjectItemCaseSensitive(c, "siblings"));
		cJSON_ArrayForEach (it, c) {
			if (strcmp(it->string, "_id") != 0 && strcmp(it->string, "id") != 0 &&
			    strcmp(it->string, "sha") != 0)
				fail_msg("%s: unexpected key %s", ex[k], it->string);
		}
		cJSON_Delete(c);
	}
}

/* ---- API: tree and paths-info ------------------------------------------ */

/* Checks one tree entry for a file of ours. */
static void
check_file_entry(const cJSON *e, const struct tfile *f)
{
	const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs");

	if (e == NULL)
		fail_msg("no entry for %s", f->path);
	assert_string_equal(jstr(e, "type"), "file");
	if (!jnum_is(e, "size", (double)f->size))
		fail_msg("%s: size wrong or missing", f->path);
	/* oid is the git blob id: of the pointer for LFS files. */
	assert_string_equal(jstr(e, "oid"), f->lfs ? f->ptrsha1 : f->gitsha1);
	if (!f->lfs) {
		assert_null(lfs);
		return;
	}
	assert_true(cJSON_IsObject(lfs));
	assert_string_equal(jstr(lfs, "oid"), f->sha256);
	assert_true(jnum_is(lfs, "size", (double)f->size));
	if (!jnum_is(lfs, "pointerSize", (double)f->ptrsize))
		fail_msg("%s: lfs.pointerSize wrong, want %zu", f->path, f->ptrsize);
}

static void
check_dir_entry(const cJSON *e, const char *path)
{
	if (e == NULL)
		fail_msg("no directory entry %s", path);
	assert_string_equal(jstr(e, "type"), "directory");
	assert_non_null(jstr(e, "oid"));
}

static void
test_tree(void **state)
{
	cJSON *j = get_json("/api/models/" REPO "/tree/main", 200);
	(void)state;

	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), 4);
	check_file_entry(find_by(j, "path", files[F_GGUF].path), &files[F_GGUF]);
	check_file_entry(find_by(j, "path", files[F_CONFIG].path), &files[F_CONFIG]);
	check_file_entry(find_by(j, "path", files[F_README].path), &files[F_README]);
	check_dir_entry(find_by(j, "path", "sub"), "sub");
	cJSON_Delete(j);
}

static void
test_tree_recursive(void **state)
{
	static const char *const q[] = { "?recursive=true", "?recursive=True&expand=false",
					 "?recursive=1" };
	(void)state;

	for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
		char u[256];
		cJSON *j;
		FMT(u, "/api/models/" REPO "/tree/main%s", q[k]);
		j = get_json(u, 200);
		assert_true(cJSON_IsArray(j));
		if (cJSON_GetArraySize(j) != 6)
			fail_msg("%s: %d entries, want 6", u, cJSON_GetArraySize(j));
		for (int i = 0; i < N_MAIN; i++)
			check_file_entry(find_by(j, "path", files[i].path), &files[i]);
		check_dir_entry(find_by(j, "path", "sub"), "sub");
		check_dir_entry(find_by(j, "path", "sub/dir"), "sub/dir");
		cJSON_Delete(j);
	}
}

/*
 * Follows Link rel="next" from first (a bounded number of pages), checks
 * the union of the pages against the unpaged listing, and returns how many
 * pages had more than limit entries (reported by the caller, after the
 * union has been checked).
 */
static int
paginate(const char *first, const char *unpaged, int limit)
{
	cJSON *all = get_json(unpaged, 200);
	cJSON *got = cJSON_CreateArray();
	regex_t re;
	char next[2048], prefix[80];
	int pages = 0, more = 1, oversized = 0;
	const cJSON *e;

	assert_int_equal(regcomp(&re, LINK_RE, REG_EXTENDED), 0);
	FMT(next, "%s", first);
	FMT(prefix, "%s/", fx.base);
	while (more) {
		struct resp r;
		cJSON *page;
		const char *link;
		regmatch_t m[3];

		if (++pages > MAX_PAGES)
			fail_msg("%s: more than %d pages", first, MAX_PAGES);
		get(&r, next);
		assert_status(&r, 200);
		page = json_of(&r);
		assert_true(cJSON_IsArray(page));
		if (cJSON_GetArraySize(page) > limit) {
			printf("# %s: page %d has %d entries, limit=%d\n", first, pages,
			       cJSON_GetArraySize(page), limit);
			oversized++;
		}
		while (cJSON_GetArraySize(page) > 0)
			cJSON_AddItemToArray(got, cJSON_DetachItemFromArray(page, 0));
		cJSON_Delete(page);
		more = 0;
		link = hdr_get(&r, "Link");
		if (link != NULL && regexec(&re, link, 3, m, 0) == 0 &&
		    m[2].rm_eo - m[2].rm_so == 4 && strncmp(link + m[2].rm_so, "next", 4) == 0) {
			int n = (int)(m[1].rm_eo - m[1].rm_so);
			FMT(next, "%.*s", n, link + m[1].rm_so);
			if (strncmp(next, prefix, strlen(prefix)) != 0)
				fail_msg("Link URL %s is not on %s", next, fx.base);
			more = 1;
		} else if (link != NULL && strstr(link, "next") != NULL) {
			fail_msg("Link header does not match the huggingface.js pattern: %s", link);
		}
		resp_free(&r);
	}
	regfree(&re);
	if (cJSON_GetArraySize(got) != cJSON_GetArraySize(all))
		fail_msg("%s: pages hold %d entries, the unpaged list %d", first,
			 cJSON_GetArraySize(got), cJSON_GetArraySize(all));
	cJSON_ArrayForEach (e, all) {
		int hits = 0;
		const cJSON *g;
		cJSON_ArrayForEach (g, got)
			hits += cJSON_Compare(e, g, 1) ? 1 : 0;
		if (hits != 1)
			fail_msg("%s: entry %s appears %d times in the pages", first,
				 jstr(e, "path"), hits);
	}
	cJSON_Delete(all);
	cJSON_Delete(got);
	return oversized;
}

static void
test_tree_pagination(void **state)
{
	int oversized = 0;
	(void)state;

	oversized += paginate("/api/models/" REPO "/tree/main?recursive=true&limit=2",
			      "/api/models/" REPO "/tree/main?recursive=true", 2);
	oversized += paginate("/api/models/" REPO "/tree/main?limit=1",
			      "/api/models/" REPO "/tree/main", 1);
	oversized += paginate("/api/models/" REPO "/tree/main/sub?recursive=true&limit=1",
			      "/api/models/" REPO "/tree/main/sub?recursive=true", 1);
	/* The union is right; a page must still hold at most limit entries. */
	if (oversized != 0)
		fail_msg("%d page(s) held more entries than limit", oversized);
}

static void
test_tree_subpath(void **state)
{
	static const char *const urls[] = {
		"/api/models/" REPO "/tree/main/sub/dir",
		"/api/models/" REPO "/tree/main/sub%2Fdir",
		"/api/models/" REPO "/tree/main/sub%2Fdir?recursive=true",
	};
	cJSON *j;
	struct resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		j = get_json(urls[i], 200);
		if (cJSON_GetArraySize(j) != 1)
			fail_msg("%s: %d entries, want 1", urls[i], cJSON_GetArraySize(j));
		check_file_entry(find_by(j, "path", files[F_WEIGHTS].path), &files[F_WEIGHTS]);
		cJSON_Delete(j);
	}
	j = get_json("/api/models/" REPO "/tree/main/sub", 200);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	check_dir_entry(find_by(j, "path", "sub/dir"), "sub/dir");
	cJSON_Delete(j);

	/* JS listFiles sends the ref unencoded. */
	j = get_json("/api/models/" REPO "/tree/refs/pr/1", 200);
	check_file_entry(find_by(j, "path", files[F_PR].path), &files[F_PR]);
	cJSON_Delete(j);
	j = get_json("/api/models/" REPO "/tree/refs%2Fpr%2F1", 200);
	check_file_entry(find_by(j, "path", files[F_PR].path), &files[F_PR]);
	cJSON_Delete(j);

	get(&r, "/api/models/" REPO "/tree/main/nope");
	assert_status(&r, 404);
	resp_free(&r);
	get(&r, "/api/models/" REPO "/tree/main/sub/nope");
	assert_status(&r, 404);
	resp_free(&r);
}

static void
test_paths_info_form(void **state)
{
	static const char body[] = "paths=config.json&paths=sub&paths=nope&expand=false";
	const char *hs[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	struct resp r;
	cJSON *j;
	(void)state;

	req(&r, "POST", "/api/models/" REPO "/paths-info/main", hs, body, strlen(body));
	assert_status(&r, 200);
	j = json_of(&r);
	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), 2);
	check_file_entry(find_by(j, "path", "config.json"), &files[F_CONFIG]);
	check_dir_entry(find_by(j, "path", "sub"), "sub");
	cJSON_Delete(j);
	resp_free(&r);

	/* An encoded slash in a form value, and the GGUF by commit. */
	{
		static const char b2[] =
			"paths=sub%2Fdir%2Fweights.bin&paths=ruvltra-0.5b-q4_k_m.gguf";
		char u[256];
		FMT(u, "/api/models/" REPO "/paths-info/%s", fx.commit);
		req(&r, "POST", u, hs, b2, strlen(b2));
		assert_status(&r, 200);
		j = json_of(&r);
		assert_int_equal(cJSON_GetArraySize(j), 2);
		check_file_entry(find_by(j, "path", files[F_WEIGHTS].path), &files[F_WEIGHTS]);
		check_file_entry(find_by(j, "path", files[F_GGUF].path), &files[F_GGUF]);
		cJSON_Delete(j);
		resp_free(&r);
	}
}

static void
test_paths_info_json(void **state)
{
	static const char body[] = "{\"paths\":[\"config.json\"],\"expand\":true}";
	static const char bad[] = "{\"paths\":[\"config.json\"";
	const char *hs[] = { "Content-Type: application/json", NULL };
	struct resp r;
	cJSON *j;
	const cJSON *e, *lc;
	(void)state;

	req(&r, "POST", "/api/models/" REPO "/paths-info/main", hs, body, strlen(body));
	assert_status(&r, 200);
	j = json_of(&r);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	e = cJSON_GetArrayItem(j, 0);
	check_file_entry(e, &files[F_CONFIG]);
	lc = cJSON_GetObjectItemCaseSensitive(e, "lastCommit");
	assert_true(cJSON_IsObject(lc));
	assert_string_equal(jstr(lc, "id"), fx.commit);
	cJSON_Delete(j);
	resp_free(&r);

	req(&r, "POST", "/api/models/" REPO "/paths-info/main", hs, bad, strlen(bad));
	assert_status(&r, 400);
	resp_free(&r);
	req(&r, "POST", "/api/models/" REPO "/paths-info/main", hs, "[1,2]", 5);
	assert_status(&r, 400);
	resp_free(&r);
}

static void
test_refs(void **state)
{
	cJSON *j = get_json("/api/models/" REPO "/refs", 200);
	const cJSON *br, *main_ref, *prs, *pr;
	(void)state;

	br = cJSON_GetObjectItemCaseSensitive(j, "branches");
	assert_true(cJSON_IsArray(br));
	main_ref = find_by(br, "name", "main");
	assert_non_null(main_ref);
	assert_string_equal(jstr(main_ref, "targetCommit"), fx.commit);
	assert_null(find_by(br, "name", "refs/pr/1"));
	cJSON_Delete(j);

	j = get_json("/api/models/" REPO "/refs?include_prs=1", 200);
	prs = cJSON_GetObjectItemCaseSensitive(j, "pullRequests");
	assert_true(cJSON_IsArray(prs));
	pr = find_by(prs, "ref", "refs/pr/1");
	assert_non_null(pr);
	assert_string_equal(jstr(pr, "targetCommit"), fx.pr_commit);
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_get_gguf),
		cmocka_unit_test(test_regular_file_etag),
		cmocka_unit_test(test_range_single),
		cmocka_unit_test(test_range_gguf_probe),
		cmocka_unit_test(test_range_unsatisfiable),
		cmocka_unit_test(test_range_malformed),
		cmocka_unit_test(test_range_multipart),
		cmocka_unit_test(test_range_fallbacks),
		cmocka_unit_test(test_if_range),
		cmocka_unit_test(test_if_none_match),
		cmocka_unit_test(test_random_ranges),
		cmocka_unit_test(test_full_get_every_file),
		cmocka_unit_test(test_concurrent_gets),
		cmocka_unit_test(test_revisions),
		cmocka_unit_test(test_pr_revision),
		cmocka_unit_test(test_dataset_resolve),
		cmocka_unit_test(test_subfolder_and_escapes),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_entry_not_found),
		cmocka_unit_test(test_revision_not_found),
		cmocka_unit_test(test_repo_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_route_table),
		cmocka_unit_test(test_dashboard),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_files_api),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_long_url),
		cmocka_unit_test(test_big_header),
		cmocka_unit_test(test_options_preflight),
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_api_info),
		cmocka_unit_test(test_api_info_blobs),
		cmocka_unit_test(test_api_info_revision_and_expand),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_tree_recursive),
		cmocka_unit_test(test_tree_pagination),
		cmocka_unit_test(test_tree_subpath),
		cmocka_unit_test(test_paths_info_form),
		cmocka_unit_test(test_paths_info_json),
		cmocka_unit_test(test_refs),
	};
	int rc;

	/* A SIGPIPE from a server that closes early must not kill the run. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	curl_global_cleanup();
	return rc;
}

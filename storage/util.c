/*
 * util.c: error names, aborting allocators, the bounded number parser,
 * the growable buffer and durable-file helpers.  See util.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "gg_limits.h"
#include "log.h"
#include "util.h"

const char *
gg_strerror(int err)
{
	switch (err) {
	case GG_OK: return "ok";
	case GG_EIO: return "input/output error";
	case GG_ENOENT: return "not found";
	case GG_EEXIST: return "already exists";
	case GG_EINVAL: return "invalid argument";
	case GG_ECORRUPT: return "content does not match its hash";
	case GG_ETOOBIG: return "limit exceeded";
	case GG_EFORMAT: return "invalid format";
	case GG_EVERSION: return "written by a newer ggufd";
	case GG_EDB: return "index error";
	case GG_ENOSPC: return "no space left";
	case GG_ERANGE: return "range not satisfiable";
	case GG_EUNAVAIL: return "content unavailable";
	}
	return "unknown error";
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		log_fatalx("malloc(%zu) failed: out of memory", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		log_fatalx("calloc(%zu, %zu) failed: out of memory", n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		log_fatalx("realloc(%zu) failed: out of memory", n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_fatalx("vsnprintf(\"%s\") failed", fmt);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int
parse_u64(const char *s, const char *end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || end == NULL || s >= end)
		return GG_EINVAL;
	for (const char *p = s; p < end; p++) {
		unsigned d;
		if (*p < '0' || *p > '9')
			return GG_EINVAL;
		d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return GG_ETOOBIG;
		v = v * 10 + d;
	}
	*out = v;
	return GG_OK;
}

size_t
fmt_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

int
parse_u64_str(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL)
		return GG_EINVAL;
	return parse_u64(s, s + strlen(s), max, out);
}

int
is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned char c = *p;
		size_t len;
		unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the 2nd byte */

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return 0; /* a continuation byte, 0xc0/0xc1 or 0xf5.. */
		}
		if ((size_t)(end - p) < len || p[1] < lo || p[1] > hi)
			return 0;
		for (size_t i = 2; i < len; i++)
			if (p[i] < 0x80 || p[i] > 0xbf)
				return 0;
		p += len;
	}
	return 1;
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
snprintf_checked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return GG_ETOOBIG;
	return GG_OK;
}

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > b->max || b->len > b->max - extra)
		return GG_ETOOBIG;
	need = b->len + extra + 1; /* room for the NUL */
	if (need <= b->cap)
		return GG_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return GG_OK;
}

int
buf_append(struct buf *b, const void *data, size_t n)
{
	int r = buf_reserve(b, n);
	if (r != GG_OK)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return GG_OK;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return GG_EINVAL;
	r = buf_reserve(b, (size_t)n);
	if (r != GG_OK)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return GG_OK;
}

const char *
buf_cstr(struct buf *b)
{
	if (b->data == NULL) {
		if (buf_reserve(b, 0) != GG_OK)
			return "";
		b->data[0] = '\0';
	}
	return b->data;
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char *p;
	buf_cstr(b);
	p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
fsync_dir(const char *dir)
{
	int fd, r = GG_OK;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("open(\"%s\") for fsync failed", dir);
		return GG_EIO;
	}
	if (fsync(fd) != 0) {
		log_warn("fsync(\"%s\") failed", dir);
		r = GG_EIO;
	}
	close(fd);
	return r;
}

int
mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return GG_EINVAL;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char saved = tmp[i];
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
			log_warn("mkdir(\"%s\") failed", tmp);
			return GG_EIO;
		}
		tmp[i] = saved;
	}
	return GG_OK;
}

uint64_t
now_unix(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

int
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return GG_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return GG_OK;
}

int
pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return GG_EIO;
		}
		if (r == 0)
			return GG_ECORRUPT;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return GG_OK;
}

char *
b64_encode(const void *data, size_t n)
{
	size_t out_len = 4 * ((n + 2) / 3);
	char *out;
	if (n > (SIZE_MAX / 4) * 3 - 3 || n > INT32_MAX)
		log_fatalx("b64_encode(%zu bytes): too large", n);
	out = xmalloc(out_len + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	out[out_len] = '\0';
	return out;
}

unsigned char *
b64_decode(const char *s, size_t n, size_t *len)
{
	unsigned char *out;
	int got;
	size_t pad = 0;

	if (n % 4 != 0 || n > INT32_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || (c == '=' && i >= n - 2)))
			return NULL;
	}
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=') {
		if (s[n - 1] != '=')
			return NULL; /* "ab=c": padding must end the input */
		pad++;
	}
	out = xmalloc(n / 4 * 3 + 1);
	got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*len = (size_t)got - pad;
	return out;
}

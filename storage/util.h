/*
 * util.h: the small common module every layer may use.
 *
 * - The project-wide error codes: functions return 0 or one negative
 *   GG_E* value from this list, and gg_strerror() names it.  Where an
 *   error came from a system call, errno is left as that call set it.
 * - Allocation that aborts (with a log line) on out-of-memory: we are a
 *   daemon and cannot do anything useful without memory.
 * - The one bounded parser for numbers that come from the wire or disk.
 * - A growable byte buffer with a hard maximum set at init.
 * - Durable-file helpers: fsync of a directory, mkdir -p.
 *
 * Everything here is thread safe (no shared state).
 */
#ifndef GG_UTIL_H
#define GG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum gg_err {
	GG_OK = 0,
	GG_EIO = -1,       /* a system call failed; errno says why */
	GG_ENOENT = -2,    /* no such object (file, blob, ref, repo) */
	GG_EEXIST = -3,    /* already exists */
	GG_EINVAL = -4,    /* malformed argument or input */
	GG_ECORRUPT = -5,  /* bytes do not match their hash or format */
	GG_ETOOBIG = -6,   /* a limit in gg_limits.h was exceeded */
	GG_EFORMAT = -7,   /* not a valid file of the expected format */
	GG_EVERSION = -8,  /* written by a newer ggufd (format version) */
	GG_EDB = -9,       /* the index (LMDB) failed */
	GG_ENOSPC = -10,   /* out of disk space (or index map full) */
	GG_ERANGE = -11,   /* a byte range that cannot be satisfied */
	GG_EUNAVAIL = -12, /* known, but its bytes are not present */
};

/* A static string naming a GG_E* code ("ok" for 0). */
const char *gg_strerror(int err);

/* Allocation: never returns NULL (aborts with a log line instead). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Allocates a formatted string; aborts on out-of-memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parses the decimal number in [s, end) (no sign, no spaces, at least one
 * digit, every byte a digit) into *out.  Returns 0, or GG_EINVAL for a
 * malformed number, GG_ETOOBIG if it exceeds max.  Never reads past end and
 * needs no NUL.
 */
int parse_u64(const char *s, const char *end, uint64_t max, uint64_t *out);
/* parse_u64 over a NUL-terminated string. */
int parse_u64_str(const char *s, uint64_t max, uint64_t *out);
/* v in decimal at out (room for 21 bytes), NUL-terminated; returns the
 * digits' count.  For hot paths, where snprintf's cost shows. */
size_t fmt_u64(char *out, uint64_t v);

/* True if [s, s+n) is n lowercase hex digits. */
int is_lower_hex(const char *s, size_t n);
/*
 * True if [s, s+n) is well-formed UTF-8 (RFC 3629): no overlong form, no
 * surrogate (U+D800..U+DFFF), nothing above U+10FFFF, no sequence cut
 * short.  A NUL byte counts as valid here (U+0000); callers that cannot
 * hold one check for it themselves.
 */
int utf8_valid(const char *s, size_t n);
/* Writes 2n lowercase hex digits and a NUL into out (size >= 2n+1). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* The value of hex digit c (either case), or -1. */
int hex_digit(char c);

/* snprintf that reports truncation: returns 0 or GG_ETOOBIG. */
int snprintf_checked(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A growable buffer.  len never exceeds max; appends past it fail. */
struct buf {
	char *data; /* NUL-terminated when len > 0 or after buf_cstr */
	size_t len;
	size_t cap;
	size_t max;
};
void buf_init(struct buf *b, size_t max);
/* Returns 0 or GG_ETOOBIG (the buffer is left unchanged). */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string (never NULL). */
const char *buf_cstr(struct buf *b);
/* Hands the data to the caller (free with free()); the buffer is reset. */
char *buf_steal(struct buf *b, size_t *len);
void buf_free(struct buf *b);

/* fsync(2) of a directory so a rename in it is durable.  0 or GG_EIO. */
int fsync_dir(const char *dir);
/* mkdir -p with mode 0755.  0 or GG_EIO. */
int mkdir_p(const char *path);
/* Seconds since the epoch. */
uint64_t now_unix(void);
/* Monotonic milliseconds. */
uint64_t now_ms(void);
/* Monotonic microseconds, for durations. */
uint64_t now_us(void);

/* Constant-time comparison of two equal-length buffers: 1 if equal. */
int ct_equal(const void *a, const void *b, size_t n);

/*
 * Base64 (RFC 4648, with padding).  b64_encode returns a malloc'ed string.
 * b64_decode returns a malloc'ed buffer and its length in *len, or NULL
 * for input that is not base64 (whitespace is not accepted).
 */
char *b64_encode(const void *data, size_t n);
unsigned char *b64_decode(const char *s, size_t n, size_t *len);

/* Writes all of buf to fd, retrying on EINTR and short writes. 0/GG_EIO. */
int write_all(int fd, const void *buf, size_t n);
/* Reads exactly n bytes at off; GG_EIO on error, GG_ECORRUPT on short read. */
int pread_all(int fd, void *buf, size_t n, uint64_t off);

#endif

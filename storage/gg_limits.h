/*
 * gg_limits.h: every limit ggufd enforces, in one place.
 *
 * Numbers that come from the network or the disk are checked against these
 * before anything is allocated or trusted.  Changing one is a deliberate
 * act; the tests exercise the edges of most of them.
 */
#ifndef GG_LIMITS_H
#define GG_LIMITS_H

/* A table: aligned by hand, left alone by clang-format. */
/* clang-format off */

/* HTTP front end. */
#define GG_MAX_URL_LEN          8192      /* raw request target, bytes */
#define GG_MAX_HEADER_BYTES     16384     /* one request header's value */
#define GG_CONN_MEMORY          (2 * GG_MAX_HEADER_BYTES) /* MHD memory per connection (default) */
#define GG_MIN_CONN_MEMORY      (GG_MAX_URL_LEN + 4096) /* the least --connection-memory */
#define GG_MAX_CONNECTIONS      1024      /* simultaneous client connections (default) */
#define GG_MAX_PER_IP_CONN      256       /* connections from one address (default) */
#define GG_CONN_RESERVE_DIV     16        /* 1/16 of the connection limit is kept free (shedding) */
#define GG_CONN_TIMEOUT_SEC     120       /* idle connection timeout (default) */
#define GG_DRAIN_TIMEOUT_SEC    30        /* a graceful stop waits this long for transfers */
#define GG_HANDOFF_EXPIRE_US    10000000u /* a connection handed to libmicrohttpd and never started is forgotten after this */
#define GG_MAX_SEGMENTS         64        /* path segments in one URL */
#define GG_MAX_REPO_LEN         160       /* "namespace/name" (Hub: 96-char names) */
#define GG_MAX_REV_LEN          200       /* branch, tag or commit */
#define GG_MAX_REPO_PATH_LEN    1024      /* file path inside a repo */
#define GG_MAX_BODY_BYTES       (1u << 20) /* JSON / form request bodies */
#define GG_MAX_RANGES           16        /* ranges in one Range header */
#define GG_MAX_RANGE_HDR_LEN    1024      /* bytes of one Range header */
#define GG_TREE_PAGE_SIZE       1000      /* entries per /tree page */
#define GG_TREE_WHOLE_MAX       50000     /* entries of a /tree asked without cursor or limit */
#define GG_TREE_MAX_PAGES       200       /* upstream tree pages joined into one answer */
#define GG_MAX_PATHS_INFO       1000      /* paths in one paths-info call */
#define GG_MAX_COMMIT_BODY      (256u << 20) /* an NDJSON commit with inline files */
#define GG_MAX_COMMIT_OPS       10000     /* files and deletions in one commit (Hub: <100 advised) */
#define GG_MAX_README_BYTES     (4u << 20) /* a model card checked by the upload policy */
#define GG_MAX_CARD_KEY_LEN     64         /* a front matter key compared when a card is replaced */
#define GG_AUDIT_LIST_MAX       10000      /* audit records in one listing (the latest) */
#define GG_MAX_CLIENT_ADDR      63         /* a client address as text (IPv6 too) */
#define GG_MAX_INLINE_COMMIT_FILE (64u << 20) /* a regular file sent inline in a commit upstream */
#define GG_MAX_PUBLISH_NDJSON   (1u << 30) /* a commit body ggufd sends upstream */
#define GG_GATEWAY_BATCH        64        /* pending upload jobs taken per worker pass */
#define GG_PULL_POLL_MS         200       /* pull progress report interval */
#define GG_MAX_UPSTREAM_JSON    (64u << 20) /* one upstream API answer */
#define GG_META_TTL_SEC         30        /* branch -> commit freshness */
#define GG_FETCH_RETRIES        6         /* resumes without progress */
#define GG_MAX_TRANSFERS        8         /* concurrent upstream transfers */
#define GG_RETRY_AFTER_MAX      8         /* longest 429 wait while a client waits */
#define GG_MAX_UPSTREAM_ERROR   320       /* the last upstream error kept for the dashboard */
#define GG_STATS_HISTORY_MIN    60        /* minutes of per-minute counters kept */
#define GG_BUDGET_DEFAULT_SEC   5         /* a 429 without Retry-After: that host rests this long */
#define GG_BUDGET_MAX_SEC       3600      /* the longest rest a 429 can ask of us */
#define GG_BUDGET_HOSTS         16        /* upstream hosts with a rate-limit budget at once */
#define GG_FETCH_WAIT_MAX_SEC   30        /* longest 429 wait of a fetch or pull before it gives up */
#define GG_FETCH_STAGE          (512u << 10) /* a fetch writes the partial in pieces this big */
#define GG_FETCH_STAGES         4         /* ... staged in this many slots, for its hasher to follow */
#define GG_FETCH_FLUSH_MS       10        /* a fetch writes a piece not full after this long */
#define GG_STREAM_BLOCK         (256u << 10) /* read size of a response streamed from a fetch */
#define GG_SMALL_BODY           (16u << 10) /* a stored answer up to this is read into memory, not sent with sendfile */
#define GG_MULTIPART_BLOCK      (64u << 10) /* read size of a multipart/byteranges response */
#define GG_MAX_LINK_LEN         (4 * GG_MAX_URL_LEN) /* a Link header ggufd builds */
#define GG_MAX_METRICS_BYTES    (4u << 20) /* the /metrics answer */
#define GG_GC_MIN_AGE_SEC       86400     /* ggufd gc: blobs untouched this long may go */
#define GG_QUARANTINE_AGE_SEC   (7 * 86400) /* gc: quarantined blobs kept this long */
#define GG_GC_INTERVAL_SEC      3600      /* serve: gc runs this often */
#define GG_FLUSH_INTERVAL_SEC   30        /* serve: hits written, quota enforced */
#define GG_GZIP_MIN_BYTES       1024      /* smaller JSON answers are sent as is */
#define GG_MAX_CONF_BYTES       (1u << 20) /* serve's config file (--config) */
#define GG_MAX_CONF_LINE        4096      /* one line of it */

/* Upstream requests (libcurl). */
#define GG_UP_CONNECT_MS        5000      /* connecting to upstream */
#define GG_UP_META_MS           8000      /* a metadata request, all in */
#define GG_UP_STALL_SEC         20        /* a download with no byte for this long is retried */
#define GG_UP_PUT_STALL_SEC     60        /* an upload (PUT) with no progress for this long fails */
#define GG_UP_LFS_BATCH_MS      120000    /* an upstream LFS batch or verify call */
#define GG_UP_LFS_COMPLETE_MS   600000    /* an upstream multipart completion */
#define GG_UP_COMMIT_MS         600000    /* an upstream commit (it may carry inline files) */

/* Upload gateway defaults (serve's flags change them). */
#define GG_MULTIPART_THRESHOLD  (512ull << 20) /* LFS uploads above this go multipart */
#define GG_MULTIPART_CHUNK      (64ull << 20)  /* multipart part size */
#define GG_HREF_TTL_SEC         86400     /* signed upload URLs stay valid this long */
#define GG_UPLOAD_MAX_SIZE      (64ull << 30)  /* largest file the gateway accepts */
#define GG_MAX_TOKEN_NAME       64        /* bytes of a gateway token's name */
#define GG_MAX_TOKEN_BOUNDS     1024      /* bytes of a token's bounds ("repo=..\npath=..\n") */

/* Store. */
#define GG_SHA256_HEX           64
#define GG_SHA1_HEX             40
#define GG_IO_CHUNK             (1u << 20) /* copy/hash buffer */
#define GG_LMDB_MAP_SIZE        (16ull << 30) /* index address space */
#define GG_LMDB_MAX_READERS     1024
#define GG_INDEX_FORMAT         1u        /* on-disk index layout version */
#define GG_LFS_MIN_SIZE         (10ull << 20) /* larger files are LFS files */

/* GGUF parser.  It reads only the header region, and these bound it. */
#define GG_GGUF_MAX_KV          65536     /* metadata key/value pairs */
#define GG_GGUF_MAX_TENSORS     (1u << 20)
#define GG_GGUF_MAX_KEY_LEN     65536     /* bytes of one key */
#define GG_GGUF_MAX_STRING_LEN  (16u << 20) /* bytes of one string value */
#define GG_GGUF_MAX_ARRAY_LEN   (1ull << 28) /* elements of one array */
#define GG_GGUF_MAX_NESTING     4         /* arrays of arrays */
#define GG_GGUF_MAX_DIMS        4         /* GGML_MAX_DIMS */
#define GG_GGUF_MAX_HEADER      (512ull << 20) /* header region, bytes */
#define GG_GGUF_SPLIT_DIGITS    5         /* "-00001-of-00003.gguf": llama.cpp's split names */

/* clang-format on */

#endif

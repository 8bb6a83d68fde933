/* conf.h — a YAML document as a tree of nodes that remember file, line and path.
 *
 * Modules validate their own config section against this tree; every error message names
 * file:line and the key path ("zones[1].file"), and validation goes on after an error so an
 * operator sees every mistake at once. libyaml is used only in conf.c.
 *
 *   conf_doc_t ── root (MAP)
 *                  ├─ "server" (MAP) ── "listen" (SEQ) ── "127.0.0.1:5353" (SCALAR)
 *                  └─ "zones"  (SEQ) ── [0] (MAP) ── "name" (SCALAR) ...
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"

typedef enum {
	CONF_SCALAR,
	CONF_SEQ,
	CONF_MAP,
} conf_kind_t;

typedef struct conf_node conf_node_t;
struct conf_node {
	conf_kind_t kind;
	const char *file;    /* file the node was read from */
	unsigned line;       /* 1-based */
	const char *path;    /* key path from the root, e.g. "zones[0].name" */
	const char *key;     /* this node's key when it is a map value, else NULL */
	const char *value;   /* CONF_SCALAR: the text; NULL otherwise */
	bool quoted;         /* CONF_SCALAR written in quotes */
	size_t count;        /* CONF_SEQ / CONF_MAP: number of children */
	conf_node_t **items; /* children in document order (map values carry their key) */
};

typedef struct conf_doc conf_doc_t;

/* Error collector: reports each problem once through log_error and counts them. */
typedef struct conf_ctx {
	unsigned errors;
} conf_ctx_t;

/* Parse a YAML file: one document (a second "---" document is an error, not ignored); a
 * string or key containing a NUL character ("\0" in double quotes) is an error, not cut
 * short. On such an error or a syntax error logs "file:line[:col]: message" and returns
 * SD_EPARSE.
 * The caller owns *out and frees it with conf_free(). Any thread. */
int conf_load(const char *path, conf_doc_t **out) SD_NONNULL(1, 2) SD_WUR;
/* Parse YAML text (tests); name stands for the file in messages. */
int conf_load_string(const char *text, const char *name, conf_doc_t **out)
    SD_NONNULL(1, 2, 3) SD_WUR;
void conf_free(conf_doc_t *doc);
const conf_node_t *conf_root(const conf_doc_t *doc) SD_NONNULL(1);

/* Report an error at a node: "file:line: path: message". Increments ctx->errors. */
void conf_error(conf_ctx_t *ctx, const conf_node_t *node, const char *fmt, ...) SD_PRINTF(3, 4)
    SD_NONNULL(1, 2);

/* Child of a map by key, or NULL. */
const conf_node_t *conf_get(const conf_node_t *map, const char *key) SD_NONNULL(2);

/* Require a map whose keys are all in allowed (NULL-terminated); reports each unknown or
 * duplicated key. Returns true when node is a map (even if some keys were bad). */
bool conf_expect_map(conf_ctx_t *ctx, const conf_node_t *node, const char *const *allowed)
    SD_NONNULL(1, 2, 3);
/* Require a sequence. */
bool conf_expect_seq(conf_ctx_t *ctx, const conf_node_t *node) SD_NONNULL(1, 2);

/* Typed scalar readers: on a wrong type or value they report and return false, leaving *out. */
bool conf_str(conf_ctx_t *ctx, const conf_node_t *node, const char **out) SD_NONNULL(1, 2, 3);
bool conf_bool(conf_ctx_t *ctx, const conf_node_t *node, bool *out) SD_NONNULL(1, 2, 3);
bool conf_u32(conf_ctx_t *ctx, const conf_node_t *node, uint32_t min, uint32_t max, uint32_t *out)
    SD_NONNULL(1, 2, 5);
/* Durations: "250ms", "5s", "2m", "1h" or a bare number of seconds; result in milliseconds. */
bool conf_duration_ms(conf_ctx_t *ctx, const conf_node_t *node, uint64_t min_ms, uint64_t max_ms,
                      uint64_t *out) SD_NONNULL(1, 2, 5);
/* The same with "us" too (microseconds), result in microseconds. */
bool conf_duration_us(conf_ctx_t *ctx, const conf_node_t *node, uint64_t min_us, uint64_t max_us,
                      uint64_t *out) SD_NONNULL(1, 2, 5);
/* A sequence of strings, or a single string meaning a one-element list. *out points into an
 * array of at most max entries owned by the caller; *count receives the number. */
bool conf_str_list(conf_ctx_t *ctx, const conf_node_t *node, const char **out, size_t max,
                   size_t *count) SD_NONNULL(1, 2, 3, 5);

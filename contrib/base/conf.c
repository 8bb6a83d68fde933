#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

/* All nodes and strings of a document live in one chain of blocks freed together. */
typedef struct block {
	struct block *next;
	size_t used, size;
	_Alignas(max_align_t) unsigned char data[];
} block_t;

struct conf_doc {
	block_t *blocks;
	conf_node_t *root;
	const char *file;
};

static void *doc_alloc(conf_doc_t *doc, size_t len)
{
	len = (len + 15) & ~(size_t)15;
	block_t *b = doc->blocks;
	if (!b || b->size - b->used < len) {
		size_t size = len > 16384 ? len : 16384;
		b = calloc(1, sizeof(*b) + size);
		if (!b)
			return NULL;
		b->size = size;
		b->next = doc->blocks;
		doc->blocks = b;
	}
	void *p = b->data + b->used;
	b->used += len;
	return p;
}

static char *doc_strdup(conf_doc_t *doc, const char *s, size_t len)
{
	char *p = doc_alloc(doc, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static char *doc_printf(conf_doc_t *doc, const char *fmt, ...) SD_PRINTF(2, 3);
static char *doc_printf(conf_doc_t *doc, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	return doc_strdup(doc, buf, strnlen(buf, sizeof(buf) - 1));
}

void conf_free(conf_doc_t *doc)
{
	if (!doc)
		return;
	block_t *b = doc->blocks;
	while (b) {
		block_t *next = b->next;
		free(b);
		b = next;
	}
	free(doc);
}

const conf_node_t *conf_root(const conf_doc_t *doc)
{
	return doc->root;
}

/* Growable child list used while a collection is being read. */
typedef struct {
	conf_node_t **items;
	size_t count, cap;
} kids_t;

static int kids_push(kids_t *k, conf_node_t *n)
{
	if (k->count == k->cap && sd_vec_grow(&k->items, &k->cap, k->count + 1) != 0)
		return -ENOMEM;
	k->items[k->count++] = n;
	return 0;
}

/* Deepest nesting of sequences and maps accepted: the reader recurses once per level, so an
 * unbounded depth ("[[[[...") overflows the stack (found by tests/fuzz/fuzz_conf). */
#define CONF_DEPTH_MAX 64

typedef struct {
	conf_doc_t *doc;
	yaml_parser_t parser;
	const char *name;
	unsigned depth; /* sequences and maps being read */
} reader_t;

static int read_node(reader_t *r, yaml_event_t *ev, const char *path, const char *key,
                     conf_node_t **out);

static int next_event(reader_t *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->parser, ev))
		return 0;
	log_error("%s:%zu:%zu: YAML syntax error: %s", r->name, r->parser.problem_mark.line + 1,
	          r->parser.problem_mark.column + 1,
	          r->parser.problem ? r->parser.problem : "unknown");
	return SD_EPARSE;
}

/* A string with a NUL in it ("\0" or "\x00" in a double-quoted scalar) would be cut short
 * where the C code reads it (a zone name ending early): refuse it, never truncate. */
static int check_scalar(reader_t *r, const yaml_event_t *ev, const char *path)
{
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) == NULL)
		return 0;
	log_error("%s:%zu: %s: a NUL character in a string is not allowed", r->name,
	          ev->start_mark.line + 1, path[0] ? path : "key");
	return SD_EPARSE;
}

static conf_node_t *new_node(reader_t *r, conf_kind_t kind, const yaml_event_t *ev,
                             const char *path, const char *key)
{
	conf_node_t *n = doc_alloc(r->doc, sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->file = r->doc->file;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->path = path;
	n->key = key;
	return n;
}

static int finish_kids(reader_t *r, conf_node_t *n, kids_t *k)
{
	n->count = k->count;
	n->items = doc_alloc(r->doc, (k->count ? k->count : 1) * sizeof(*n->items));
	if (!n->items) {
		free(k->items);
		return -ENOMEM;
	}
	if (k->count)
		memcpy(n->items, k->items, k->count * sizeof(*n->items));
	free(k->items);
	return 0;
}

static int read_seq(reader_t *r, conf_node_t *n)
{
	kids_t k = {0};
	for (;;) {
		yaml_event_t ev;
		int ret = next_event(r, &ev);
		if (ret < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return finish_kids(r, n, &k);
		}
		const char *path = doc_printf(r->doc, "%s[%zu]", n->path, k.count);
		conf_node_t *child = NULL;
		ret = read_node(r, &ev, path, NULL, &child);
		yaml_event_delete(&ev);
		if (ret < 0 || (ret = kids_push(&k, child)) < 0)
			goto fail;
	}
fail:
	free(k.items);
	return SD_EPARSE;
}

static int read_map(reader_t *r, conf_node_t *n)
{
	kids_t k = {0};
	for (;;) {
		yaml_event_t ev;
		if (next_event(r, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return finish_kids(r, n, &k);
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			log_error("%s:%zu: %s: map keys must be plain strings", r->name,
			          ev.start_mark.line + 1, n->path);
			yaml_event_delete(&ev);
			goto fail;
		}
		if (check_scalar(r, &ev, n->path) < 0) {
			yaml_event_delete(&ev);
			goto fail;
		}
		const char *key =
		    doc_strdup(r->doc, (const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
		const char *path = n->path[0] ? doc_printf(r->doc, "%s.%s", n->path, key) : key;
		if (next_event(r, &ev) < 0)
			goto fail;
		conf_node_t *child = NULL;
		int ret = read_node(r, &ev, path, key, &child);
		yaml_event_delete(&ev);
		if (ret < 0 || kids_push(&k, child) < 0)
			goto fail;
	}
fail:
	free(k.items);
	return SD_EPARSE;
}

static int read_node(reader_t *r, yaml_event_t *ev, const char *path, const char *key,
                     conf_node_t **out)
{
	conf_node_t *n;
	int ret;
	if ((ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) &&
	    r->depth >= CONF_DEPTH_MAX) {
		log_error("%s:%zu: %s: nested deeper than %d levels", r->name,
		          ev->start_mark.line + 1, path, CONF_DEPTH_MAX);
		return SD_EPARSE;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (check_scalar(r, ev, path) < 0)
			return SD_EPARSE;
		n = new_node(r, CONF_SCALAR, ev, path, key);
		if (!n)
			return -ENOMEM;
		n->value =
		    doc_strdup(r->doc, (const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		            ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		*out = n;
		return n->value ? 0 : -ENOMEM;
	case YAML_SEQUENCE_START_EVENT:
		n = new_node(r, CONF_SEQ, ev, path, key);
		*out = n;
		if (!n)
			return -ENOMEM;
		r->depth++;
		ret = read_seq(r, n);
		r->depth--;
		return ret;
	case YAML_MAPPING_START_EVENT:
		n = new_node(r, CONF_MAP, ev, path, key);
		*out = n;
		if (!n)
			return -ENOMEM;
		r->depth++;
		ret = read_map(r, n);
		r->depth--;
		return ret;
	case YAML_ALIAS_EVENT:
		log_error("%s:%zu: %s: YAML aliases are not supported", r->name,
		          ev->start_mark.line + 1, path);
		return SD_EPARSE;
	default:
		log_error("%s:%zu: %s: unexpected YAML event", r->name, ev->start_mark.line + 1,
		          path);
		return SD_EPARSE;
	}
}

/* After the root node: the end of its document, then the end of the stream. A second
 * document ("---" again) is refused rather than ignored: its settings would silently not
 * apply. */
static int read_stream_end(reader_t *r)
{
	for (;;) {
		yaml_event_t ev;
		if (next_event(r, &ev) < 0)
			return SD_EPARSE;
		yaml_event_type_t t = ev.type;
		size_t line = ev.start_mark.line + 1;
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			return 0;
		if (t != YAML_DOCUMENT_END_EVENT) {
			log_error("%s:%zu: a second YAML document is not supported (one config "
			          "per file)",
			          r->name, line);
			return SD_EPARSE;
		}
	}
}

/* Skip stream/document framing and read the root node; an empty file is an empty map. */
static int read_document(reader_t *r)
{
	yaml_event_t ev;
	for (;;) {
		if (next_event(r, &ev) < 0)
			return SD_EPARSE;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			r->doc->root = new_node(r, CONF_MAP, &ev, "", NULL);
			if (!r->doc->root)
				return -ENOMEM;
			r->doc->root->items = doc_alloc(r->doc, sizeof(conf_node_t *));
			if (!r->doc->root->items)
				return -ENOMEM;
			return t == YAML_STREAM_END_EVENT ? 0 : read_stream_end(r);
		}
		int ret = read_node(r, &ev, "", NULL, &r->doc->root);
		yaml_event_delete(&ev);
		return ret < 0 ? ret : read_stream_end(r);
	}
}

static int load_common(reader_t *r, conf_doc_t **out)
{
	int ret = read_document(r);
	yaml_parser_delete(&r->parser);
	if (ret < 0) {
		conf_free(r->doc);
		return ret;
	}
	*out = r->doc;
	return 0;
}

static int reader_init(reader_t *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->doc = calloc(1, sizeof(*r->doc));
	if (!r->doc)
		return -ENOMEM;
	r->doc->file = doc_strdup(r->doc, name, strlen(name));
	r->name = r->doc->file;
	if (!r->doc->file || !yaml_parser_initialize(&r->parser)) {
		conf_free(r->doc);
		return -ENOMEM;
	}
	return 0;
}

int conf_load(const char *path, conf_doc_t **out)
{
	int fd = sd_open_regular(path, O_RDONLY, 0); /* never a FIFO or device (fsutil.h) */
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (!f) {
		int ret = fd >= 0 ? sd_errno() : fd;
		if (fd >= 0)
			close(fd);
		log_error("%s: cannot open: %s", path, sd_strerror(ret));
		return ret;
	}
	reader_t r;
	int ret = reader_init(&r, path);
	if (ret == 0) {
		yaml_parser_set_input_file(&r.parser, f);
		ret = load_common(&r, out);
	}
	fclose(f);
	return ret;
}

int conf_load_string(const char *text, const char *name, conf_doc_t **out)
{
	reader_t r;
	int ret = reader_init(&r, name);
	if (ret < 0)
		return ret;
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, strlen(text));
	return load_common(&r, out);
}

void conf_error(conf_ctx_t *ctx, const conf_node_t *node, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s:%u: %s: %s", node->file, node->line, node->path[0] ? node->path : "(top)",
	          msg);
	ctx->errors++;
}

const conf_node_t *conf_get(const conf_node_t *map, const char *key)
{
	if (!map || map->kind != CONF_MAP)
		return NULL;
	for (size_t i = 0; i < map->count; i++)
		if (strcmp(map->items[i]->key, key) == 0)
			return map->items[i];
	return NULL;
}

static const char *kind_name(conf_kind_t k)
{
	return k == CONF_MAP ? "a map" : k == CONF_SEQ ? "a list" : "a scalar";
}

bool conf_expect_map(conf_ctx_t *ctx, const conf_node_t *node, const char *const *allowed)
{
	if (node->kind != CONF_MAP) {
		conf_error(ctx, node, "expected a map, found %s", kind_name(node->kind));
		return false;
	}
	for (size_t i = 0; i < node->count; i++) {
		const conf_node_t *c = node->items[i];
		bool known = false;
		for (const char *const *a = allowed; *a && !known; a++)
			known = strcmp(*a, c->key) == 0;
		if (!known)
			conf_error(ctx, c, "unknown key '%s'", c->key);
		for (size_t j = 0; j < i; j++)
			if (strcmp(node->items[j]->key, c->key) == 0)
				conf_error(ctx, c, "duplicate key '%s'", c->key);
	}
	return true;
}

bool conf_expect_seq(conf_ctx_t *ctx, const conf_node_t *node)
{
	if (node->kind == CONF_SEQ)
		return true;
	conf_error(ctx, node, "expected a list, found %s", kind_name(node->kind));
	return false;
}

bool conf_str(conf_ctx_t *ctx, const conf_node_t *node, const char **out)
{
	if (node->kind != CONF_SCALAR) {
		conf_error(ctx, node, "expected a string, found %s", kind_name(node->kind));
		return false;
	}
	*out = node->value;
	return true;
}

bool conf_bool(conf_ctx_t *ctx, const conf_node_t *node, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	if (node->kind == CONF_SCALAR && !node->quoted) {
		for (size_t i = 0; i < SD_ARRAY_LEN(yes); i++) {
			if (strcmp(node->value, yes[i]) == 0) {
				*out = true;
				return true;
			}
			if (strcmp(node->value, no[i]) == 0) {
				*out = false;
				return true;
			}
		}
	}
	conf_error(ctx, node, "expected true or false");
	return false;
}

bool conf_u32(conf_ctx_t *ctx, const conf_node_t *node, uint32_t min, uint32_t max, uint32_t *out)
{
	const char *s = node->kind == CONF_SCALAR ? node->value : NULL;
	char *end = NULL;
	errno = 0;
	unsigned long long v = s && isdigit((unsigned char)s[0]) ? strtoull(s, &end, 10) : 0;
	if (!s || !end || *end != '\0' || errno != 0 || v < min || v > max) {
		conf_error(ctx, node, "expected an integer from %" PRIu32 " to %" PRIu32, min, max);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* A duration in microseconds: digits and a unit, "us", "ms", "s", "m", "h" or none (seconds).
 * False on anything else or past UINT64_MAX. */
static bool duration_us(const conf_node_t *node, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t us;
	} units[] = {{"us", 1},     {"ms", 1000},           {"s", 1000000},
	             {"", 1000000}, {"m", 60ull * 1000000}, {"h", 3600ull * 1000000}};
	const char *s = node->kind == CONF_SCALAR ? node->value : NULL;
	if (!s || !isdigit((unsigned char)s[0]))
		return false;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[i].us)
			return false;
		*out = v * units[i].us;
		return true;
	}
	return false;
}

bool conf_duration_ms(conf_ctx_t *ctx, const conf_node_t *node, uint64_t min_ms, uint64_t max_ms,
                      uint64_t *out)
{
	uint64_t us = 0;
	/* whole milliseconds only: a key in milliseconds has no use for less */
	if (!duration_us(node, &us) || us % 1000 != 0 || us / 1000 < min_ms || us / 1000 > max_ms) {
		conf_error(ctx, node,
		           "expected a duration from %" PRIu64 "ms to %" PRIu64
		           "ms (e.g. 500ms, 5s, 2m)",
		           min_ms, max_ms);
		return false;
	}
	*out = us / 1000;
	return true;
}

bool conf_duration_us(conf_ctx_t *ctx, const conf_node_t *node, uint64_t min_us, uint64_t max_us,
                      uint64_t *out)
{
	uint64_t us = 0;
	if (!duration_us(node, &us) || us < min_us || us > max_us) {
		conf_error(ctx, node,
		           "expected a duration from %" PRIu64 "us to %" PRIu64
		           "us (e.g. 50us, 1ms)",
		           min_us, max_us);
		return false;
	}
	*out = us;
	return true;
}

bool conf_str_list(conf_ctx_t *ctx, const conf_node_t *node, const char **out, size_t max,
                   size_t *count)
{
	if (node->kind == CONF_SCALAR) {
		out[0] = node->value;
		*count = 1;
		return true;
	}
	if (!conf_expect_seq(ctx, node))
		return false;
	if (node->count > max) {
		conf_error(ctx, node, "at most %zu entries are allowed", max);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < node->count; i++)
		ok = conf_str(ctx, node->items[i], &out[i]) && ok;
	*count = node->count;
	return ok;
}

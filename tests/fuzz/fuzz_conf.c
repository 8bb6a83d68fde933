/* fuzz_conf.c — libFuzzer target for the YAML config reader (contrib/base/conf.h) and the
 * daemon's complete config validation (srv_config_load_string, server/config.h), with a
 * corpus replay.
 *
 * The operator's YAML is semi-trusted, but a typo must end in a file:line message, never a
 * crash. Each input (as text, up to its first NUL) is
 *  - read by conf_load_string(); the tree must be consistent: every node names the file, a
 *    line within the input and a path; scalars have a value; map children carry their key;
 *  - validated by srv_config_load_string() as the daemon's file (nothing is started: keys,
 *    listeners, zones and the health section are only parsed). 0 and SD_ECONFIG return a
 *    config, any other code none; the result is freed.
 * Inputs that name device or proc files are skipped: secret-file and ca-file open the paths
 * they are given, and /dev/stdin would block the fuzzer rather than find a bug.
 */
#include <string.h>

#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "server/config.h"
#include "tests/fuzz/replay.h"

static bool g_ready;

static void check_tree(const conf_node_t *n, unsigned lines, const char *file)
{
	FUZZ_CHECK(n->file != NULL && strcmp(n->file, file) == 0);
	FUZZ_CHECK(n->line >= 1 && n->line <= lines);
	FUZZ_CHECK(n->path != NULL);
	switch (n->kind) {
	case CONF_SCALAR:
		FUZZ_CHECK(n->value != NULL);
		FUZZ_CHECK(n->count == 0);
		return;
	case CONF_SEQ:
	case CONF_MAP:
		FUZZ_CHECK(n->value == NULL);
		FUZZ_CHECK(n->count == 0 || n->items != NULL);
		for (size_t i = 0; i < n->count; i++) {
			const conf_node_t *c = n->items[i];
			FUZZ_CHECK(c != NULL);
			FUZZ_CHECK((c->key != NULL) == (n->kind == CONF_MAP));
			if (c->key != NULL)
				FUZZ_CHECK(conf_get(n, c->key) != NULL);
			check_tree(c, lines, file);
		}
		return;
	}
	FUZZ_CHECK(!"unknown node kind");
}

static bool names_special_file(const char *text)
{
	return strstr(text, "dev/") != NULL || strstr(text, "proc/") != NULL ||
	       strstr(text, "sys/") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g_ready) {
		fuzz_quiet_log();
		g_ready = true;
	}
	char *text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	if (names_special_file(text))
		goto out;
	unsigned lines = 1;
	for (const char *p = text; *p; p++)
		lines += *p == '\n' || *p == '\r';
	conf_doc_t *doc = NULL;
	int rc = conf_load_string(text, "fuzz.yaml", &doc);
	FUZZ_CHECK(rc == 0 || rc == SD_EPARSE);
	FUZZ_CHECK((rc == 0) == (doc != NULL));
	if (doc != NULL) {
		check_tree(conf_root(doc), lines + 1, "fuzz.yaml");
		conf_free(doc);
	}
	srv_config_t *cfg = NULL;
	int crc = srv_config_load_string(text, "fuzz.yaml", &cfg);
	FUZZ_CHECK(crc == 0 || crc == SD_ECONFIG || crc == SD_EPARSE);
	FUZZ_CHECK((crc == SD_EPARSE) == (rc == SD_EPARSE));
	FUZZ_CHECK((cfg != NULL) == (crc != SD_EPARSE));
	if (crc == 0) {
		FUZZ_CHECK(cfg->health != NULL);
		FUZZ_CHECK(cfg->listen_count >= 1);
		/* A valid config names each zone once: lookups by apex find the entry itself. */
		for (size_t i = 0; i < cfg->zone_count; i++)
			FUZZ_CHECK(srv_config_zone(cfg, cfg->zones[i].apex) == &cfg->zones[i]);
	}
	srv_config_free(cfg);
out:
	free(text);
	return 0;
}

void fuzz_teardown(void)
{
}

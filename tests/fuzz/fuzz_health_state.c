/* fuzz_health_state.c — libFuzzer target for the health prober's state file (operator
 * overrides kept across restarts, health/statefile.c), with a corpus replay.
 *
 * health/ exposes no pure function that consumes an HTTP response: the status and body
 * checks are http_parser callbacks bound to a running check (health/check.c), so they are
 * covered by the health system tests, not here. The state file is the prober's one parser of
 * bytes it did not write in this process: it is read at every start. Each input is written
 * as the state file and loaded: 0 or a clean error; loaded overrides must have valid names,
 * and saving them and loading the result must give the same overrides in the same order.
 */
#include <string.h>

#include "health/internal.h"
#include "tests/fuzz/replay.h"

static char g_path[256], g_saved[256];

static void build(void)
{
	fuzz_quiet_log();
	snprintf(g_path, sizeof(g_path), "%s/health.state", fuzz_tmpdir());
	snprintf(g_saved, sizeof(g_saved), "%s/saved.state", fuzz_tmpdir());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_path[0] == '\0')
		build();
	fuzz_write_file(g_path, data, size);
	health_override_t *ovr = NULL, *again = NULL;
	size_t n = 0, m = 0;
	int rc = health_overrides_load(g_path, &ovr, &n);
	FUZZ_CHECK(rc <= 0);
	if (rc < 0) {
		FUZZ_CHECK(ovr == NULL && n == 0);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(health_name_valid(ovr[i].name));
		FUZZ_CHECK(ovr[i].mode == HEALTH_FORCE_UP || ovr[i].mode == HEALTH_FORCE_DOWN);
	}
	FUZZ_CHECK(health_overrides_save(g_saved, ovr, n) == 0);
	FUZZ_CHECK(health_overrides_load(g_saved, &again, &m) == 0);
	FUZZ_CHECK(m == n);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(strcmp(ovr[i].name, again[i].name) == 0);
		FUZZ_CHECK(ovr[i].pool == again[i].pool && ovr[i].mode == again[i].mode);
	}
	health_overrides_free(ovr, n);
	health_overrides_free(again, m);
	return 0;
}

void fuzz_teardown(void)
{
}

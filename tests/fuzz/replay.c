/* replay.c — the shared part of the fuzz targets: quiet logging, a private temp directory and,
 * without -DSTEERDNS_LIBFUZZER, the corpus-replay main() (see replay.h). */
#include "tests/fuzz/replay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contrib/base/bytes.h"
#include "contrib/base/log.h"

#define REPLAY_INPUT_MAX (1u << 20)

static void discard(log_level_t level, const char *line, void *data)
{
	(void)level;
	(void)line;
	(void)data;
}

void fuzz_quiet_log(void)
{
	if (getenv("STEERDNS_FUZZ_LOG") == NULL)
		log_set_hook(discard, NULL);
}

static char g_tmpdir[64];

static void tmpdir_remove(void)
{
	DIR *d = opendir(g_tmpdir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char sub[512];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", g_tmpdir, e->d_name);
		unlink(sub);
	}
	closedir(d);
	rmdir(g_tmpdir);
}

const char *fuzz_tmpdir(void)
{
	if (g_tmpdir[0] != '\0')
		return g_tmpdir;
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(g_tmpdir, sizeof(g_tmpdir), "%s/steerdns-fuzz-XXXXXX", base);
	FUZZ_CHECK(mkdtemp(g_tmpdir) != NULL);
	atexit(tmpdir_remove);
	return g_tmpdir;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(n > 0);
		off += (size_t)n;
	}
	FUZZ_CHECK(close(fd) == 0);
}

#ifndef STEERDNS_LIBFUZZER
static int replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		perror(path);
		return 1;
	}
	uint8_t *tmp = malloc(REPLAY_INPUT_MAX);
	FUZZ_CHECK(tmp != NULL);
	size_t n = fread(tmp, 1, REPLAY_INPUT_MAX, fp);
	fclose(fp);
	/* An exact-size copy: one byte read past the input is an ASan report. */
	uint8_t *buf = malloc(n ? n : 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, tmp, n);
	free(tmp);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int replay(const char *path, unsigned *count)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	DIR *d = opendir(path);
	if (d == NULL) {
		perror(path);
		return 1;
	}
	int ret = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char sub[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		(*count)++;
		ret |= replay_file(sub);
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int ret = argc < 2; /* no corpus named: nothing would be tested */
	for (int i = 1; i < argc; i++) {
		unsigned before = count;
		ret |= replay(argv[i], &count);
		/* an empty (or missing) corpus is a failure, never a silent pass */
		if (count == before) {
			fprintf(stderr, "%s: no inputs to replay\n", argv[i]);
			ret = 1;
		}
	}
	printf("replayed %u inputs\n", count);
	fuzz_teardown();
	return ret;
}
#endif

/* Step over a name in a message we wrote; 0 when it runs out, uses a reserved label type or
 * points forwards. */
static size_t skip_name(const uint8_t *m, size_t len, size_t pos)
{
	while (pos < len) {
		uint8_t l = m[pos];
		if ((l & 0xc0) == 0xc0)
			return pos + 2 <= len && (size_t)(((l & 0x3f) << 8) | m[pos + 1]) < pos
			           ? pos + 2
			           : 0;
		if (l & 0xc0)
			return 0;
		if (l == 0)
			return pos + 1;
		pos += 1u + l;
	}
	return 0;
}

void fuzz_check_message(const uint8_t *m, size_t len, void (*on_answer)(uint16_t type, void *arg),
                        void *arg)
{
	FUZZ_CHECK(len >= 12);
	size_t pos = 12;
	for (unsigned i = 0; i < be16_get(m + 4); i++) {
		pos = skip_name(m, len, pos);
		FUZZ_CHECK(pos != 0 && pos + 4 <= len);
		pos += 4;
	}
	unsigned an = be16_get(m + 6), rrs = an + be16_get(m + 8) + be16_get(m + 10);
	for (unsigned i = 0; i < rrs; i++) {
		pos = skip_name(m, len, pos);
		FUZZ_CHECK(pos != 0 && pos + 10 <= len);
		if (i < an && on_answer != NULL)
			on_answer(be16_get(m + pos), arg);
		pos += 10 + be16_get(m + pos + 8);
		FUZZ_CHECK(pos <= len);
	}
	FUZZ_CHECK(pos == len);
}

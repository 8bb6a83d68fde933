/* test_fsutil.c — sd_open_regular and sd_regular_or_absent: only regular files are opened
 * or replaced; a FIFO is refused at once (open would block without O_NONBLOCK), a device,
 * a directory and a socket each with their reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"

static char g_dir[] = "/tmp/sd-fsutil-XXXXXX";

static void path_in(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", g_dir, name);
}

static void test_regular_file(void **state)
{
	(void)state;
	char p[PATH_MAX];
	path_in(p, "plain");
	assert_int_equal(sd_regular_or_absent(p), 0); /* absent */
	int fd = sd_open_regular(p, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0); /* handed back blocking */
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(sd_regular_or_absent(p), 0);
	fd = sd_open_regular(p, O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	path_in(p, "missing");
	assert_int_equal(sd_open_regular(p, O_RDONLY, 0), -ENOENT);
}

static void test_special_files(void **state)
{
	(void)state;
	char p[PATH_MAX];
	path_in(p, "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(sd_open_regular(p, O_RDONLY, 0), SD_EFIFO); /* returns: no writer */
	assert_int_equal(sd_open_regular(p, O_RDWR | O_CREAT, 0600), SD_EFIFO);
	assert_int_equal(sd_regular_or_absent(p), SD_EFIFO);
	assert_string_equal(sd_strerror(SD_EFIFO), "is a FIFO, not a regular file");
	assert_int_equal(sd_open_regular("/dev/null", O_RDONLY, 0), SD_EDEVICE);
	assert_int_equal(sd_regular_or_absent("/dev/null"), SD_EDEVICE);
	assert_int_equal(sd_open_regular(g_dir, O_RDONLY, 0), -EISDIR);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	path_in(p, "sock");
	assert_true(strlen(p) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p, strlen(p) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(sd_regular_or_absent(p), SD_ENOTREG);
	close(s);
}

static int teardown(void **state)
{
	(void)state;
	const char *names[] = {"plain", "fifo", "sock"};
	char p[PATH_MAX];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(p, names[i]);
		unlink(p);
	}
	return rmdir(g_dir);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(g_dir) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regular_file),
	    cmocka_unit_test(test_special_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

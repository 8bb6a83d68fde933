/* fsutil.c — file-system helpers with no DNS meaning (see fsutil.h). */
#include "contrib/base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include "contrib/base/err.h"

/* fsync the directory holding path, so a created or renamed entry survives a crash. */
int sd_fsync_dir(const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sd_errno();
	int rc = fsync(dfd) < 0 ? sd_errno() : 0;
	close(dfd);
	return rc;
}

int sd_mode_regular(mode_t mode)
{
	if (S_ISREG(mode))
		return 0;
	if (S_ISDIR(mode))
		return -EISDIR;
	if (S_ISFIFO(mode))
		return SD_EFIFO;
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return SD_EDEVICE;
	return SD_ENOTREG;
}

/* O_NONBLOCK makes open() of a FIFO return at once (with no writer, it would wait for one);
 * the fstat then refuses it before anything reads. */
int sd_open_regular(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	if (fd < 0)
		return sd_errno();
	struct stat st;
	int rc = fstat(fd, &st) == 0 ? sd_mode_regular(st.st_mode) : sd_errno();
	int fl = rc == 0 ? fcntl(fd, F_GETFL) : -1;
	if (rc == 0 && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
		rc = sd_errno();
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int sd_regular_or_absent(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? 0 : sd_errno();
	return sd_mode_regular(st.st_mode);
}

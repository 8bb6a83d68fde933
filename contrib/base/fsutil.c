/* fsutil.c — file-system helpers with no DNS meaning (see fsutil.h). */
#include "contrib/base/fsutil.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
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

#include "server/ctlproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void srv_ctl_default_path(char *buf, size_t size)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (run && run[0] == '/')
		snprintf(buf, size, "%s/steerdns.sock", run);
	else
		snprintf(buf, size, "/tmp/steerdns-%u.sock", (unsigned)getuid());
}

/* checkpoint-drive: libvz's CRIU path (common/criu.c) on any process tree,
 * for tests and bench/checkpoint before and besides vzctl:
 *
 *   checkpoint-drive dump PID DIR [FREEZER_DIR] [--leave-running] [--external X]...
 *   checkpoint-drive restore DIR ROOT CGROUP_REL [FREEZER_DIR] [--external X]...
 *   checkpoint-drive stats DIR      (CRIU's statistics of a dump directory)
 *
 * Prints one JSON object: phase times (microseconds), CRIU's statistics, and for
 * restore the host PID of the restored root task.  Exit status is the
 * vz exit code of the failure, with vz's one-line message on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "util.h"

static void times_json(struct vz_json *j, const struct vz_criu_times *t)
{
	vz_json_kv_uint(j, "freeze_us", t->freeze_ns / 1000);
	vz_json_kv_uint(j, "dump_us", t->dump_ns / 1000);
	vz_json_kv_uint(j, "restore_us", t->restore_ns / 1000);
	vz_json_kv_uint(j, "thaw_us", t->thaw_ns / 1000);
}

int main(int argc, char **argv)
{
	vz_log_init("checkpoint-drive");
	struct vz_error err;
	struct vz_criu c;
	struct vz_criu_times t = { 0 };
	struct vz_criu_stats st = { 0 };
	bool leave = false;
	int n = 0;
	char *a[8] = { 0 };
	_cleanup_strv_ char **ext = NULL;
	for (int i = 1; i < argc; i++) {
		if (vz_streq(argv[i], "--leave-running"))
			leave = true;
		else if (vz_streq(argv[i], "--external") && i + 1 < argc)
			ext = vz_strv_push(ext, argv[++i]);
		else if (n < 8)
			a[n++] = argv[i];
	}
	if (n == 2 && vz_streq(a[0], "stats")) {
		if (vz_criu_read_stats(a[1], &st, &err) < 0)
			return vz_report(&err);
		struct vz_json j;
		vz_json_init(&j, stdout, false);
		vz_json_begin_object(&j);
		vz_criu_stats_json(&j, &st);
		vz_json_end_object(&j);
		vz_json_finish(&j);
		return 0;
	}
	if (n < 3 || (vz_streq(a[0], "restore") && n < 4)) {
		fprintf(stderr, "usage: checkpoint-drive dump PID DIR [FREEZER] [--leave-running]\n"
				"       checkpoint-drive restore DIR ROOT CGROUP_REL [FREEZER]\n"
				"       checkpoint-drive stats DIR\n");
		return VZ_EUSAGE;
	}
	if (vz_criu_find(&c, &err) < 0)
		return vz_report(&err);
	pid_t pid = 0;
	const char *dir;
	if (vz_streq(a[0], "dump")) {
		long long p;
		if (vz_parse_int(a[1], 1, 1 << 30, &p) < 0) {
			fprintf(stderr, "checkpoint-drive: bad PID '%s'\n", a[1]);
			vz_criu_free(&c);
			return VZ_EUSAGE;
		}
		dir = a[2];
		struct vz_criu_dump_opts o = {
			.pid = (pid_t)p, .dir = dir, .freeze_cgroup = a[3],
			.leave_running = leave, .file_locks = true,
			.tcp_established = true, .external = ext,
		};
		if (vz_criu_checkpoint(&c, &o, &t, &err) < 0) {
			vz_criu_free(&c);
			return vz_report(&err);
		}
	} else if (vz_streq(a[0], "restore")) {
		dir = a[1];
		_cleanup_free_ char *pidfile = xasprintf("%s/restore.pid", dir);
		_cleanup_strv_ char **cg = vz_criu_cgroup_roots(a[3], false);
		struct vz_criu_restore_opts o = {
			.dir = dir, .root = a[2], .pidfile = pidfile,
			.cgroup_roots = cg, .file_locks = true,
			.tcp_established = true, .external = ext,
		};
		if (vz_criu_restore(&c, &o, a[4], &pid, &t, &err) < 0) {
			vz_criu_free(&c);
			return vz_report(&err);
		}
	} else {
		fprintf(stderr, "checkpoint-drive: unknown command '%s'\n", a[0]);
		vz_criu_free(&c);
		return VZ_EUSAGE;
	}
	vz_criu_free(&c);
	if (vz_criu_read_stats(dir, &st, &err) < 0)
		return vz_report(&err);
	struct vz_json j;
	vz_json_init(&j, stdout, false);
	vz_json_begin_object(&j);
	if (pid)
		vz_json_kv_int(&j, "pid", pid);
	times_json(&j, &t);
	vz_criu_stats_json(&j, &st);
	vz_json_end_object(&j);
	vz_json_finish(&j);
	return 0;
}

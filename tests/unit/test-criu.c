/* common/criu.c: version checks, stats images, log reasons, command lines. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu.h"
#include "json.h"
#include "error.h"
#include "util.h"
#include "unit.h"

/* stats-dump and stats-restore written by criu 4.2.1 on this project's
 * test VM (a busybox tree, 50 pages written). */
static const unsigned char stats_dump[] = {
	0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0x24, 0x00, 0x00, 0x00,
	0x0a, 0x22, 0x08, 0xec, 0x98, 0x06, 0x10, 0xe3, 0xf0, 0x06, 0x18, 0xd8,
	0x0f, 0x20, 0xf6, 0x02, 0x28, 0x48, 0x30, 0x00, 0x38, 0x32, 0x40, 0x00,
	0x48, 0x00, 0x50, 0x0c, 0x58, 0x0c, 0x60, 0x00, 0x68, 0x00, 0x70, 0x00,
};
static const unsigned char stats_restore[] = {
	0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0x0f, 0x00, 0x00, 0x00,
	0x12, 0x0d, 0x08, 0x12, 0x10, 0x04, 0x18, 0xfc, 0x07, 0x20, 0xc6, 0xc8,
	0x05, 0x28, 0x2e,
};

static void test_version(void)
{
	unsigned a, b, c;
	CHECK(vz_criu_parse_version("Version: 4.2.1\n", &a, &b, &c) == 0 &&
	      a == 4 && b == 2 && c == 1, "parses 4.2.1");
	CHECK(vz_criu_parse_version("Version: 3.17\nGitID: v3.17\n", &a, &b, &c) == 0 &&
	      a == 3 && b == 17 && c == 0, "parses 3.17 with GitID");
	CHECK(vz_criu_parse_version("criu: unknown option\n", &a, &b, &c) < 0,
	      "no Version line is an error");
	CHECK(vz_criu_parse_version("Version: 4\n", &a, &b, &c) < 0,
	      "a lone major is an error");
	CHECK(vz_criu_parse_version(NULL, &a, &b, &c) < 0, "NULL text");
	CHECK(vz_criu_version_ok(4, 2) && vz_criu_version_ok(4, 10) &&
	      vz_criu_version_ok(5, 0), "4.2, 4.10, 5.0 are good");
	CHECK(!vz_criu_version_ok(4, 1) && !vz_criu_version_ok(3, 17),
	      "4.1 and 3.17 are too old");
}

static void test_stats(void)
{
	struct vz_criu_stats st = { 0 };
	struct vz_error err;
	CHECK(vz_criu_parse_stats(stats_dump, sizeof(stats_dump), &st, &err) == 0,
	      "parses a real stats-dump");
	CHECK(st.have_dump && !st.have_restore, "dump entry only");
	CHECK(st.freezing_us == 101484 && st.frozen_us == 112739 &&
	      st.memdump_us == 2008 && st.memwrite_us == 374,
	      "dump times (%u %u %u %u)", st.freezing_us, st.frozen_us,
	      st.memdump_us, st.memwrite_us);
	CHECK(st.pages_scanned == 72 && st.pages_written == 50,
	      "dump page counts");
	CHECK(vz_criu_parse_stats(stats_restore, sizeof(stats_restore), &st, &err) == 0,
	      "parses a real stats-restore into the same struct");
	CHECK(st.have_dump && st.have_restore, "both entries now");
	CHECK(st.forking_us == 1020 && st.restore_us == 91206 &&
	      st.pages_restored == 46 && st.pages_compared == 18 &&
	      st.pages_skipped_cow == 4, "restore fields");

	struct vz_criu_stats s2 = { 0 };
	CHECK(vz_criu_parse_stats(stats_dump, 20, &s2, &err) < 0 &&
	      err.code == VZ_ECORRUPT && strstr(err.msg, "truncated"),
	      "truncated image: %s", err.msg);
	unsigned char bad[sizeof(stats_dump)];
	memcpy(bad, stats_dump, sizeof(bad));
	bad[4] ^= 1;
	CHECK(vz_criu_parse_stats(bad, sizeof(bad), &s2, &err) < 0 &&
	      strstr(err.msg, "magic"), "bad magic: %s", err.msg);
	memcpy(bad, stats_dump, sizeof(bad));
	bad[13] = 0x40; /* embedded message longer than the image */
	CHECK(vz_criu_parse_stats(bad, sizeof(bad), &s2, &err) < 0 &&
	      strstr(err.msg, "malformed"), "bad length: %s", err.msg);
	memcpy(bad, stats_dump, sizeof(bad));
	bad[14] = 0x0b; /* field 1 with wire type 3 (groups: unsupported) */
	CHECK(vz_criu_parse_stats(bad, sizeof(bad), &s2, &err) < 0,
	      "unknown wire type is an error");
	/* An image without the service magic (older layout) still parses. */
	struct vz_criu_stats s3 = { 0 };
	CHECK(vz_criu_parse_stats(stats_dump + 4, sizeof(stats_dump) - 4, &s3, &err) == 0 &&
	      s3.pages_written == 50, "stats magic first is accepted");
}

static void test_stats_json(void)
{
	struct vz_criu_stats st = { 0 };
	struct vz_error err;
	vz_criu_parse_stats(stats_dump, sizeof(stats_dump), &st, &err);
	vz_criu_parse_stats(stats_restore, sizeof(stats_restore), &st, &err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vz_json j;
	vz_json_init(&j, f, false);
	vz_json_begin_object(&j);
	vz_criu_stats_json(&j, &st);
	vz_json_end_object(&j);
	vz_json_finish(&j);
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	_cleanup_free_ char *want = xasprintf(
		"{\"criu_dump\":{\"freezing_us\":101484,\"frozen_us\":112739,"
		"\"memdump_us\":2008,\"memwrite_us\":374,\"pages_scanned\":72,"
		"\"pages_written\":50,\"bytes_written\":%ld},"
		"\"criu_restore\":{\"forking_us\":1020,\"restore_us\":91206,"
		"\"pages_restored\":46}}\n", 50 * page);
	CHECK_STR(buf, want, "stats as JSON");
	free(buf);
}

static void test_reason(void)
{
	const char *log =
		"(00.054079) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n"
		"(00.060000) Dumping task 1\n"
		"Error (criu/util.c:642): execvp(\"iptables-save\", ...) failed: No such file or directory\n"
		"(00.231469)      1: Error (criu/sk-unix.c:200): unix: Can't dump socket 1234: external\n"
		"(00.300000) Error (criu/cr-dump.c:2000): Dumping FAILED.\n";
	_cleanup_free_ char *r = vz_criu_log_reason(log);
	CHECK_STR(r, "unix: Can't dump socket 1234: external",
		  "first real error, noise and prefixes dropped");
	_cleanup_free_ char *r2 = vz_criu_log_reason("(0.1) all fine\n");
	CHECK(r2 == NULL, "no error line: NULL");
}

static void test_argv(void)
{
	struct vz_criu c = { .path = (char *)"/usr/local/sbin/criu" };
	char *ext[] = { (char *)"mnt[/x]:x", NULL };
	struct vz_criu_dump_opts d = {
		.pid = 1234, .dir = "/vz/dump/101", .freeze_cgroup = "/sys/fs/cgroup/freezer/vz/101",
		.leave_running = true, .tcp_established = true, .external = ext,
	};
	_cleanup_strv_ char **v = vz_criu_dump_argv(&c, &d);
	_cleanup_free_ char *s = vz_strv_join(v, " ");
	CHECK_STR(s, "/usr/local/sbin/criu dump -t 1234 -D /vz/dump/101 -o dump.log -v2 "
		  "--network-lock nftables --freeze-cgroup /sys/fs/cgroup/freezer/vz/101 "
		  "--leave-running --tcp-established --skip-in-flight --external mnt[/x]:x", "dump command line");

	char *cg[] = { (char *)"cpu:/vz/101", (char *)"name=systemd:/vz/101", NULL };
	char *veth[] = { (char *)"eth0=veth101.0", NULL };
	struct vz_criu_restore_opts r = {
		.dir = "/d", .root = "/vz/root/101", .pidfile = "/d/restore.pid",
		.cgroup_roots = cg, .veth_pairs = veth, .log_level = 4,
	};
	_cleanup_strv_ char **w = vz_criu_restore_argv(&c, &r);
	_cleanup_free_ char *t = vz_strv_join(w, " ");
	CHECK_STR(t, "/usr/local/sbin/criu restore -D /d -o restore.log -v4 --restore-detached "
		  "--root /vz/root/101 --pidfile /d/restore.pid --network-lock nftables "
		  "--cgroup-root cpu:/vz/101 --cgroup-root name=systemd:/vz/101 "
		  "--veth-pair eth0=veth101.0", "restore command line");

	_cleanup_strv_ char **u = vz_criu_cgroup_roots("vz/101", true);
	CHECK(u && vz_strv_len(u) == 1 && vz_streq(u[0], "/vz/101"),
	      "cgroup v2: one bare root");
}

static char *fake_criu(const char *dir, const char *name, const char *body)
{
	char *p = xasprintf("%s/%s", dir, name);
	_cleanup_free_ char *text = xasprintf("#!/bin/sh\n%s\n", body);
	struct vz_error err;
	if (vz_write_file_atomic(p, text, strlen(text), 0755, &err) < 0)
		printf("# %s\n", err.msg);
	return p;
}

static void test_find(void)
{
	char tmpl[] = "/tmp/vz-test-criu.XXXXXX";
	char *dir = mkdtemp(tmpl);
	CHECK(dir != NULL, "temp dir");
	if (!dir)
		return;
	struct vz_error err;
	struct vz_criu c;
	_cleanup_free_ char *old = fake_criu(dir, "old", "echo 'Version: 3.17'");
	_cleanup_free_ char *good = fake_criu(dir, "good", "echo 'Version: 4.2.1'");
	_cleanup_free_ char *mute = fake_criu(dir, "mute", "exit 1");
	_cleanup_free_ char *none = xasprintf("%s/none", dir);

	_cleanup_free_ char *cache = xasprintf("%s/version-cache", dir);
	setenv("VZ_CRIU_CACHE", cache, 1);
	setenv("VZ_CRIU", old, 1);
	CHECK(vz_criu_find(&c, &err) < 0 && err.code == VZ_ENOSYS &&
	      strstr(err.msg, "criu 3.17.0") && strstr(err.msg, "too old") &&
	      strstr(err.msg, "scripts/install-deps"), "too old: %s", err.msg);
	setenv("VZ_CRIU", none, 1);
	CHECK(vz_criu_find(&c, &err) < 0 && err.code == VZ_ENOSYS &&
	      strstr(err.msg, "not found") && strstr(err.msg, "scripts/install-deps"),
	      "missing: %s", err.msg);
	setenv("VZ_CRIU", mute, 1);
	CHECK(vz_criu_find(&c, &err) < 0 && strstr(err.msg, "does not report a version"),
	      "no version: %s", err.msg);
	setenv("VZ_CRIU", good, 1);
	CHECK(vz_criu_find(&c, &err) == 0 && c.major == 4 && c.minor == 2 &&
	      c.sub == 1 && vz_streq(c.path, good), "good one found");
	vz_criu_free(&c);

	/* The version is probed once per binary: a counting fake proves it. */
	_cleanup_free_ char *runs = xasprintf("%s/runs", dir);
	_cleanup_free_ char *body = xasprintf("echo x >> %s; echo 'Version: 4.3'", runs);
	_cleanup_free_ char *counting = fake_criu(dir, "counting", body);
	setenv("VZ_CRIU", counting, 1);
	bool ok = vz_criu_find(&c, &err) == 0 && c.minor == 3;
	vz_criu_free(&c);
	ok = ok && vz_criu_find(&c, &err) == 0 && c.minor == 3;
	vz_criu_free(&c);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	vz_read_file(runs, &text, &len, &err);
	CHECK(ok && len == 2, "second find uses the cached version (%zu bytes of runs)", len);
	_cleanup_free_ char *body2 = xasprintf("echo x >> %s; echo 'Version: 4.4'", runs);
	_cleanup_free_ char *again = fake_criu(dir, "counting", body2);
	CHECK(vz_criu_find(&c, &err) == 0 && c.minor == 4,
	      "a replaced binary is probed again");
	vz_criu_free(&c);
	unsetenv("VZ_CRIU");
	unsetenv("VZ_CRIU_CACHE");
	struct vz_error e2;
	vz_rm_rf(dir, &e2);
}

static void test_external_mounts(void)
{
	const char *ct =
		"100 90 254:0 /tmp/p/101 / rw,relatime - ext4 /dev/vda rw\n"
		"101 100 0:45 / /proc rw - proc proc rw\n"
		"102 100 254:0 /tmp/p/101/var/www /mnt/www rw - ext4 /dev/vda rw\n"
		"103 100 254:0 /srv/shared /mnt/shared rw - ext4 /dev/vda rw\n"
		"104 101 0:60 /proc/meminfo /proc/meminfo rw - fuse.lxcfs lxcfs rw\n"
		"105 100 7:0 / /mnt/space\\040dir rw - ext4 /dev/loop0 rw\n"
		"106 100 0:70 / /dev rw - tmpfs dev rw\n";
	const char *host =
		"1 0 254:0 / / rw - ext4 /dev/vda rw\n"
		"2 1 0:60 / /var/lib/lxcfs rw - fuse.lxcfs lxcfs rw\n"
		"3 1 7:0 / /data rw - ext4 /dev/loop0 rw\n";
	struct vz_error err;
	_cleanup_strv_ char **cp = NULL, **hp = NULL;
	CHECK(vz_criu_external_mounts(ct, host, &cp, &hp, &err) == 0, "external mounts found");
	_cleanup_free_ char *c = cp ? vz_strv_join(cp, "|") : NULL;
	_cleanup_free_ char *h = hp ? vz_strv_join(hp, "|") : NULL;
	CHECK_STR(c, "/mnt/shared|/proc/meminfo|/mnt/space dir",
		  "host dir, lxcfs file and a host fs are external; own binds and pseudo fs are not");
	CHECK_STR(h, "/srv/shared|/var/lib/lxcfs/proc/meminfo|/data", "their host paths");

	const char *ct2 = "1 0 254:0 /r / rw - ext4 /dev/vda rw\n"
			  "2 1 9:9 / /mnt/x rw - xfs /dev/md9 rw\n";
	_cleanup_strv_ char **c2 = NULL, **h2 = NULL;
	CHECK(vz_criu_external_mounts(ct2, host, &c2, &h2, &err) < 0 && err.code == VZ_ENOSYS &&
	      strstr(err.msg, "/mnt/x"), "a mount the host cannot see: %s", err.msg);
	_cleanup_strv_ char **c3 = NULL, **h3 = NULL;
	CHECK(vz_criu_external_mounts("1 0 254:0 /r / rw - ext4 /dev/vda rw\n", host,
				      &c3, &h3, &err) == 0 && c3 == NULL, "a plain CT has none");
}

int main(void)
{
	test_version();
	test_stats();
	test_stats_json();
	test_reason();
	test_argv();
	test_find();
	test_external_mounts();
	UNIT_DONE();
}

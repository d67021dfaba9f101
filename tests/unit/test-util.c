#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "util.h"
#include "unit.h"

static void sizes(void)
{
	static const struct { const char *in; uint64_t unit; int ok; uint64_t out; } c[] = {
		{ "0", 1, 1, 0 }, { "100", 1, 1, 100 }, { "100", 4096, 1, 409600 },
		{ "1K", 1, 1, 1024 }, { "1k", 4096, 1, 1024 }, { "256M", 4096, 1, 256ULL << 20 },
		{ "2G", 1, 1, 2ULL << 30 }, { "1T", 1, 1, 1ULL << 40 },
		{ "1GB", 1, 1, 1ULL << 30 }, { "1GiB", 1, 1, 1ULL << 30 },
		{ "", 1, 0, 0 }, { "M", 1, 0, 0 }, { "-1", 1, 0, 0 }, { "1X", 1, 0, 0 },
		{ "1.5G", 1, 0, 0 }, { "1 G", 1, 0, 0 }, { "1GG", 1, 0, 0 },
		{ "99999999999999999999", 1, 0, 0 }, { "17179869184P", 1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t v = 0;
		int r = vz_parse_size(c[i].in, c[i].unit, &v);
		if (c[i].ok)
			CHECK(r == 0 && v == c[i].out, "size '%s' = %llu", c[i].in,
			      (unsigned long long)c[i].out);
		else
			CHECK(r < 0, "size '%s' refused", c[i].in);
	}
	char buf[32];
	vz_format_size(256ULL << 20, buf, sizeof(buf));
	CHECK_STR(buf, "256M", "format 256M");
	vz_format_size(1000, buf, sizeof(buf));
	CHECK_STR(buf, "1000", "format 1000");
}

static void strv(void)
{
	char **v = vz_strv_split("  a b\tc  ", " \t");
	CHECK(vz_strv_len(v) == 3, "split into 3");
	char *j = vz_strv_join(v, ",");
	CHECK_STR(j, "a,b,c", "join");
	CHECK(vz_strv_contains(v, "b") && !vz_strv_contains(v, "d"), "contains");
	free(j);
	vz_strv_free(v);
}

static void files(void)
{
	char dir[] = "/tmp/vz-unit-XXXXXX";
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	char *p = xasprintf("%s/a/b/c", dir);
	struct vz_error err = { 0 };
	CHECK(vz_mkdir_p(p, 0755, &err) == 0, "mkdir -p");
	char *f = xasprintf("%s/file", p);
	CHECK(vz_write_file_atomic(f, "hello\n", 6, 0600, &err) == 0, "atomic write");
	char *data;
	size_t len;
	CHECK(vz_read_file(f, &data, &len, &err) == 0 && len == 6 &&
	      strcmp(data, "hello\n") == 0, "read back");
	free(data);
	struct stat st;
	CHECK(stat(f, &st) == 0 && (st.st_mode & 0777) == 0600, "mode kept");
	char *link = xasprintf("%s/a/escape", dir);
	CHECK(symlink("/etc", link) == 0, "symlink");
	CHECK(vz_read_file("/nonexistent/x", &data, &len, &err) < 0 &&
	      err.code == VZ_ENOENT, "missing file is ENOENT");
	CHECK(vz_rm_rf(dir, &err) == 0, "rm -rf");
	CHECK(access(dir, F_OK) < 0, "tree gone");
	CHECK(access("/etc/passwd", F_OK) == 0, "symlink target untouched");
	free(p);
	free(f);
	free(link);
}

static void run(void)
{
	struct vz_error err = { 0 };
	char *t[] = { "true", NULL }, *f[] = { "sh", "-c", "exit 3", NULL };
	char *none[] = { "vz-no-such-program", NULL };
	CHECK(vz_run(t, NULL, &err) == 0, "run true");
	CHECK(vz_run(f, NULL, &err) == 3, "run exit 3");
	CHECK(vz_run(none, NULL, &err) < 0 && err.code == VZ_ENOSYS,
	      "missing program: %s", err.msg);
}

int main(void)
{
	sizes();
	strv();
	files();
	run();
	UNIT_DONE();
}

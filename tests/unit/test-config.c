#include <unistd.h>

#include "config.h"
#include "error.h"
#include "util.h"
#include "unit.h"

static int parse(struct vz_conf *c, const char *text, struct vz_error *err)
{
	vz_conf_init(c, "t.conf");
	return vz_conf_parse(c, "t.conf", text, strlen(text), err);
}

static void good(void)
{
	struct vz_conf c;
	struct vz_error err = { 0 };
	const char *text =
		"# comment\n"
		"\n"
		"HOSTNAME=\"web1\"\n"
		"  ONBOOT=yes   # trailing comment\n"
		"DESCRIPTION='single quoted # not a comment'\n"
		"NAMESERVER=\"192.0.2.1 192.0.2.2\"\n"
		"ESC=\"a\\\"b\\\\c\\$d\"\n"
		"EMPTY=\n"
		"export VE_ROOT=\"/vz/root/$VEID\"\n"
		"HOSTNAME=\"web2\"\n";
	CHECK(parse(&c, text, &err) == 0, "parse good file: %s", err.msg);
	CHECK_STR(vz_conf_get(&c, "HOSTNAME"), "web2", "last one wins");
	CHECK(vz_conf_lineno(&c, "HOSTNAME") == 10, "line number of last");
	CHECK_STR(vz_conf_get(&c, "ONBOOT"), "yes", "bare value");
	CHECK_STR(vz_conf_get(&c, "DESCRIPTION"), "single quoted # not a comment",
		  "single quotes");
	CHECK_STR(vz_conf_get(&c, "ESC"), "a\"b\\c$d", "escapes");
	CHECK_STR(vz_conf_get(&c, "EMPTY"), "", "empty value");
	CHECK_STR(vz_conf_get(&c, "MISSING"), NULL, "missing key");
	char *exp = vz_conf_expand(vz_conf_get(&c, "VE_ROOT"), "101");
	CHECK_STR(exp, "/vz/root/101", "$VEID expanded");
	free(exp);
	exp = vz_conf_expand("/a/${VEID}/$VEIDX/$CTID", "7");
	CHECK_STR(exp, "/a/7/$VEIDX/7", "expansion only of whole names");
	free(exp);

	vz_conf_set(&c, "HOSTNAME", "new \"one\"");
	vz_conf_set(&c, "ONBOOT", NULL);
	vz_conf_set(&c, "CPUUNITS", "2000");
	char *out = vz_conf_format(&c);
	CHECK_STR(out,
		  "# comment\n"
		  "\n"
		  "HOSTNAME=\"new \\\"one\\\"\"\n"
		  "DESCRIPTION='single quoted # not a comment'\n"
		  "NAMESERVER=\"192.0.2.1 192.0.2.2\"\n"
		  "ESC=\"a\\\"b\\\\c\\$d\"\n"
		  "EMPTY=\n"
		  "export VE_ROOT=\"/vz/root/$VEID\"\n"
		  "CPUUNITS=\"2000\"\n",
		  "set keeps other lines, replaces in place, drops duplicates");
	struct vz_conf c2;
	CHECK(parse(&c2, out, &err) == 0, "formatted output parses again");
	CHECK_STR(vz_conf_get(&c2, "HOSTNAME"), "new \"one\"", "round trip value");
	vz_conf_free(&c2);
	free(out);
	vz_conf_free(&c);
}

static void bad(void)
{
	static const struct { const char *text; int line; const char *what; } c[] = {
		{ "A=\"unterminated\n", 1, "unterminated double quote" },
		{ "OK=1\nB='x\n", 2, "unterminated single quote" },
		{ "OK=1\n\nNAME value\n", 3, "expected NAME" },
		{ "NAME = value\n", 1, "no '='" },
		{ "1A=x\n", 1, "expected NAME" },
		{ "A=two words\n", 1, "text after the value" },
		{ "A=$(reboot)\n", 1, "shell syntax" },
		{ "A=\"x\"y z\n", 1, "text after the value" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vz_conf conf;
		struct vz_error err = { 0 };
		char want[64];
		snprintf(want, sizeof(want), "t.conf:%d: ", c[i].line);
		int r = parse(&conf, c[i].text, &err);
		CHECK(r < 0 && err.code == VZ_ECONFIG &&
		      strncmp(err.msg, want, strlen(want)) == 0 &&
		      strstr(err.msg, c[i].what),
		      "bad line %zu reported: %s", i, err.msg);
		vz_conf_free(&conf);
	}
	struct vz_conf conf;
	struct vz_error err = { 0 };
	vz_conf_init(&conf, "t");
	CHECK(vz_conf_parse(&conf, "t", "A=1\0B", 5, &err) < 0, "NUL refused");
	vz_conf_free(&conf);
}

static void check_values(void)
{
	static const struct { const char *text; int ok; } c[] = {
		{ "CPUUNITS=1000\n", 1 }, { "CPUUNITS=7\n", 0 }, { "CPUUNITS=abc\n", 0 },
		{ "ONBOOT=yes\n", 1 }, { "ONBOOT=maybe\n", 0 },
		{ "PHYSPAGES=0:256M\n", 1 }, { "PHYSPAGES=unlimited\n", 1 },
		{ "PHYSPAGES=10:5\n", 0 }, { "PHYSPAGES=1:x\n", 0 },
		{ "VE_ROOT=/vz/root/$VEID\n", 1 }, { "VE_ROOT=relative\n", 0 },
		{ "STOP_TIMEOUT=-1\n", 0 }, { "UNKNOWN_THING=1\n", 1 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vz_conf conf;
		struct vz_error err = { 0 };
		parse(&conf, c[i].text, &err);
		int r = vz_conf_check(&conf, &err);
		if (c[i].ok)
			CHECK(r == 0, "valid: %.*s", (int)strcspn(c[i].text, "\n"), c[i].text);
		else
			CHECK(r < 0 && strncmp(err.msg, "t.conf:1: ", 10) == 0,
			      "invalid reported with FILE:LINE: %s", err.msg);
		vz_conf_free(&conf);
	}
	uint64_t b, l;
	CHECK(vz_parse_ubc("0:256M", 4096, &b, &l) == 0 && b == 0 &&
	      l == 256ULL << 20, "ubc with suffix");
	CHECK(vz_parse_ubc("65536", 4096, &b, &l) == 0 && b == l &&
	      b == 65536ULL * 4096, "ubc bare pages");
	CHECK(vz_parse_ubc("1:unlimited", 1, &b, &l) == 0 && l == VZ_UNLIMITED,
	      "ubc unlimited");
	size_t n;
	const struct vz_param *t = vz_param_table(&n);
	int sorted = 1;
	for (size_t i = 1; i < n; i++)
		if (strcmp(t[i - 1].name, t[i].name) >= 0)
			sorted = 0;
	CHECK(sorted, "parameter table sorted for bsearch");
}

static void save(void)
{
	char dir[] = "/tmp/vz-unit-XXXXXX";
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	char *path = xasprintf("%s/101.conf", dir);
	struct vz_error err = { 0 };
	CHECK(vz_write_file_atomic(path, "# keep\nA=\"1\"\n", 13, 0644, &err) == 0,
	      "write");
	struct vz_conf c;
	vz_conf_init(&c, NULL);
	CHECK(vz_conf_load(&c, path, &err) == 0, "load");
	vz_conf_set(&c, "B", "2");
	CHECK(vz_conf_save(&c, NULL, &err) == 0, "save");
	char *text;
	CHECK(vz_read_file(path, &text, NULL, &err) == 0 &&
	      strcmp(text, "# keep\nA=\"1\"\nB=\"2\"\n") == 0, "saved text");
	free(text);
	vz_conf_free(&c);
	vz_rm_rf(dir, &err);
	free(path);
}

int main(void)
{
	good();
	bad();
	check_values();
	save();
	UNIT_DONE();
}

/* Fuzz target for the config parser.  With clang -fsanitize=fuzzer it is a
 * libFuzzer target; otherwise (gcc, ASan in CI) the main below replays the
 * corpus and a fixed number of seeded mutations of it.
 * Property: whatever parses, formats back to text that parses to the same
 * keys and values; set/get agree; the checker never crashes. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "util.h"

static int failures;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vz_conf c, d;
	struct vz_error err = { 0 };
	vz_conf_init(&c, "fuzz");
	if (vz_conf_parse(&c, "fuzz", (const char *)data, size, &err) == 0) {
		vz_conf_check(&c, &err);
		vz_conf_set(&c, "FUZZ_KEY", "a \"quoted\" \\ `value` $VEID");
		char *text = vz_conf_format(&c);
		vz_conf_init(&d, "fuzz2");
		if (vz_conf_parse(&d, "fuzz2", text, strlen(text), &err) < 0) {
			fprintf(stderr, "formatted config does not parse: %s\n", err.msg);
			failures++;
		} else {
			for (size_t i = 0; i < c.n; i++) {
				const char *k = c.lines[i].key;
				if (k && !vz_streq(vz_conf_get(&c, k), vz_conf_get(&d, k))) {
					fprintf(stderr, "value of %s changed on round trip\n", k);
					failures++;
				}
			}
		}
		vz_conf_free(&d);
		free(text);
		char *e = vz_conf_expand((const char *)c.path, "101");
		free(e);
	}
	vz_conf_free(&c);
	return 0;
}

#ifndef VZ_LIBFUZZER
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "fuzz/corpus-config";
	long rounds = argc > 2 ? atol(argv[2]) : 20000;
	vz_log_set_verbosity(-1);  /* the checker's warnings are not news here */
	char *seeds[256];
	size_t lens[256], n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)) && n < 256) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		if (vz_read_file(p, &seeds[n], &lens[n], NULL) == 0)
			n++;
		free(p);
	}
	if (d)
		closedir(d);
	if (n == 0) {
		printf("not ok 1 - no corpus in %s\n1..1\n", dir);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		LLVMFuzzerTestOneInput((const uint8_t *)seeds[i], lens[i]);
	printf("%s 1 - config parser: %zu corpus files round-trip\n",
	       failures ? "not ok" : "ok", n);
	int before = failures;
	static const char alphabet[] = "=\"'\\$`#\n \tAZaz_09:;-/{}";
	for (long r = 0; r < rounds; r++) {
		size_t s = next() % n, len = lens[s];
		size_t cap = len + 64;
		uint8_t *buf = xmalloc(cap);
		memcpy(buf, seeds[s], len);
		int muts = 1 + next() % 8;
		for (int m = 0; m < muts; m++) {
			size_t pos = len ? next() % len : 0;
			switch (next() % 4) {
			case 0: if (len) buf[pos] = alphabet[next() % (sizeof(alphabet) - 1)]; break;
			case 1: if (len) buf[pos] = (uint8_t)next(); break;
			case 2: if (len) { memmove(buf + pos, buf + pos + 1, len - pos - 1); len--; } break;
			case 3: if (len + 1 < cap) { memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = alphabet[next() % (sizeof(alphabet) - 1)]; len++; } break;
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	printf("%s 2 - config parser: %ld seeded mutations\n1..2\n",
	       failures > before ? "not ok" : "ok", rounds);
	for (size_t i = 0; i < n; i++)
		free(seeds[i]);
	return failures ? 1 : 0;
}
#endif

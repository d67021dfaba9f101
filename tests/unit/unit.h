/* A tiny TAP-style unit test harness: each CHECK prints "ok N - what" or
 * "not ok N - what (file:line)"; the program exits non-zero on any failure.
 * tests/run counts the lines. */
#ifndef VZ_UNIT_H
#define VZ_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond, ...) do { \
	unit_n++; \
	if (cond) { \
		printf("ok %d - ", unit_n); printf(__VA_ARGS__); putchar('\n'); \
	} else { \
		unit_failed++; \
		printf("not ok %d - ", unit_n); printf(__VA_ARGS__); \
		printf(" (%s:%d: %s)\n", __FILE__, __LINE__, #cond); \
	} \
	fflush(stdout); \
} while (0)

#define CHECK_STR(a, b, ...) do { \
	const char *a_ = (a), *b_ = (b); \
	int eq_ = (a_ && b_) ? strcmp(a_, b_) == 0 : a_ == b_; \
	CHECK(eq_, __VA_ARGS__); \
	if (!eq_) printf("#   got \"%s\", want \"%s\"\n", a_ ? a_ : "(null)", \
			 b_ ? b_ : "(null)"); \
	fflush(stdout); \
} while (0)

#define UNIT_DONE() do { \
	printf("1..%d\n", unit_n); \
	fflush(stdout); \
	return unit_failed ? 1 : 0; \
} while (0)

#endif

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "ctid.h"
#include "error.h"

int vz_ctid_parse(const char *s, unsigned *id, struct vz_error *err)
{
	if (!s || !*s)
		return vz_fail(err, VZ_EUSAGE, "no CTID given");
	size_t n = strlen(s);
	bool digits = n <= 10;
	for (size_t i = 0; digits && i < n; i++)
		digits = isdigit((unsigned char)s[i]);
	if (!digits || s[0] == '0')
		goto bad;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v < 1 || v > VZ_CTID_MAX)
		goto bad;
	*id = (unsigned)v;
	return 0;
bad:
	return vz_fail(err, VZ_EUSAGE,
		       "invalid CTID '%.64s%s': use a number from 1 to %u", s,
		       n > 64 ? "..." : "", VZ_CTID_MAX);
}

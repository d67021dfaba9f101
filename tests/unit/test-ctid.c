#include "ctid.h"
#include "error.h"
#include "unit.h"

int main(void)
{
	static const struct { const char *in; int ok; unsigned id; } cases[] = {
		{ "101", 1, 101 }, { "1", 1, 1 }, { "2147483647", 1, 2147483647U },
		{ "0", 0, 0 }, { "2147483648", 0, 0 }, { "-1", 0, 0 },
		{ "", 0, 0 }, { "../x", 0, 0 }, { "10 1", 0, 0 }, { " 101", 0, 0 },
		{ "101 ", 0, 0 }, { "0101", 0, 0 }, { "+101", 0, 0 },
		{ "99999999999999999999999", 0, 0 }, { "1e3", 0, 0 },
		{ "abc", 0, 0 }, { "101/", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vz_error err = { 0 };
		unsigned id = 0;
		int r = vz_ctid_parse(cases[i].in, &id, &err);
		if (cases[i].ok)
			CHECK(r == 0 && id == cases[i].id, "ctid '%s' accepted",
			      cases[i].in);
		else
			CHECK(r < 0 && err.code == VZ_EUSAGE &&
			      strstr(err.msg, "CTID"),
			      "ctid '%s' refused: %s", cases[i].in, err.msg);
	}
	struct vz_error err = { 0 };
	CHECK(vz_ctid_parse(NULL, &(unsigned){ 0 }, &err) < 0, "NULL refused");
	UNIT_DONE();
}

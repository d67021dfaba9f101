#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "unit.h"

int main(void)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	struct vz_json j;
	vz_json_init(&j, f, false);
	vz_json_begin_array(&j);
	vz_json_begin_object(&j);
	vz_json_kv_uint(&j, "ctid", 101);
	vz_json_kv_string(&j, "hostname", "a\"b\\c\n\x01");
	vz_json_kv_string(&j, "ip", NULL);
	vz_json_key(&j, "list");
	vz_json_begin_array(&j);
	vz_json_int(&j, -1);
	vz_json_bool(&j, true);
	vz_json_end_array(&j);
	vz_json_key(&j, "empty");
	vz_json_begin_object(&j);
	vz_json_end_object(&j);
	vz_json_end_object(&j);
	vz_json_end_array(&j);
	fclose(f);
	CHECK_STR(buf, "[{\"ctid\":101,\"hostname\":\"a\\\"b\\\\c\\n\\u0001\","
		       "\"ip\":null,\"list\":[-1,true],\"empty\":{}}]",
		  "compact JSON");
	free(buf);

	f = open_memstream(&buf, &len);
	vz_json_init(&j, f, true);
	vz_json_begin_object(&j);
	vz_json_kv_int(&j, "a", 1);
	vz_json_end_object(&j);
	fclose(f);
	CHECK_STR(buf, "{\n  \"a\": 1\n}", "pretty JSON");
	free(buf);
	UNIT_DONE();
}

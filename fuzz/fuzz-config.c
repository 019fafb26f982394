/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the configuration reader. */
#include <stdlib.h>
#include <string.h>

#include "../lib/config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *text = malloc(size + 1);
	struct vh_config c;
	struct vh_err e = {0};

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	vh_config_init(&c);
	(void)vh_config_parse(&c, "fuzz.conf", text, &e);
	vh_config_done(&c);
	free(text);
	return 0;
}

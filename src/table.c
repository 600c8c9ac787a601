#include "table.h"

#include <stdbool.h>
#include <stdlib.h>

size_t table_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* C0, DEL, and C1 (U+0080..U+009F, encoded C2 80..C2 9F). */
static bool control_at(const unsigned char *s)
{
	return *s < 0x20 || *s == 0x7F ||
	       (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F);
}

static void print_cell(FILE *out, const char *text)
{
	for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
		if (control_at(s)) {
			fputc('?', out);
			s += *s == 0xC2; /* a C1 character is two bytes */
		} else {
			fputc(*s, out);
		}
	}
}

void table_print(FILE *out, size_t nrows, size_t ncols, table_cell_fn *cell,
		 void *arg)
{
	size_t *widths = calloc(ncols ? ncols : 1, sizeof(*widths));

	if (widths == NULL)
		return;
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			size_t w = table_width(cell(arg, r, c));

			if (w > widths[c])
				widths[c] = w;
		}
	for (size_t r = 0; r < nrows; r++) {
		/* Padding is written only before a non-empty cell, so empty
		 * last columns leave no trailing spaces. */
		size_t pad = 0;

		for (size_t c = 0; c < ncols; c++) {
			const char *text = cell(arg, r, c);

			if (text[0] != '\0') {
				fprintf(out, "%*s", (int)pad, "");
				print_cell(out, text);
				pad = 0;
			}
			pad += widths[c] - table_width(text) + 2;
		}
		fputc('\n', out);
	}
	free(widths);
}

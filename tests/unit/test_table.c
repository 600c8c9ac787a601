#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "table.h"

struct grid {
	size_t ncols;
	const char *const *cells;
};

static const char *grid_cell(void *arg, size_t row, size_t col)
{
	const struct grid *g = arg;

	return g->cells[row * g->ncols + col];
}

/* The table as printed, in a heap string the caller frees. */
static char *render(size_t nrows, size_t ncols, const char *const *cells)
{
	struct grid g = {ncols, cells};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert(out != NULL);
	table_print(out, nrows, ncols, grid_cell, &g);
	fclose(out);
	return text;
}

Test(table, columns_align_on_the_widest_cell)
{
	static const char *const cells[] = {
		"ID", "USERNAME", "STATUS",
		"1", "alice", "enabled",
		"12", "bob", "disabled",
	};
	char *text = render(3, 3, cells);

	cr_assert_str_eq(text, "ID  USERNAME  STATUS\n"
			       "1   alice     enabled\n"
			       "12  bob       disabled\n");
	free(text);
}

Test(table, width_counts_characters_not_bytes)
{
	static const char *const cells[] = {
		"NAME", "X",
		"\xc3\xa9t\xc3\xa9", "1", /* été: 3 characters, 5 bytes */
	};
	char *text = render(2, 2, cells);

	cr_assert_eq(table_width("\xc3\xa9t\xc3\xa9"), 3);
	cr_assert_str_eq(text, "NAME  X\n\xc3\xa9t\xc3\xa9   1\n");
	free(text);
}

Test(table, empty_last_cells_leave_no_trailing_space)
{
	static const char *const cells[] = {
		"A", "EMAIL", "ROLES",
		"x", "", "",
		"y", "", "admin",
	};
	char *text = render(3, 3, cells);

	cr_assert_str_eq(text, "A  EMAIL  ROLES\nx\ny         admin\n");
	free(text);
}

Test(table, control_characters_print_as_question_marks)
{
	static const char *const cells[] = {
		"UA",
		"evil\x1b[2Jagent\x7f\xc2\x9bx",
	};
	char *text = render(2, 1, cells);

	cr_assert_str_eq(text, "UA\nevil?[2Jagent??x\n");
	free(text);
}

Test(table, header_only)
{
	static const char *const cells[] = {"NAME", "CREATED"};
	char *text = render(1, 2, cells);

	cr_assert_str_eq(text, "NAME  CREATED\n");
	free(text);
}

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

/* Prints the cells as a table and compares the text with `expected`. */
static void expect_table(size_t nrows, size_t ncols, const char *const *cells,
			 const char *expected)
{
	struct grid g = {ncols, cells};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert(out != NULL);
	table_print(out, nrows, ncols, grid_cell, &g);
	fclose(out);
	cr_assert_str_eq(text, expected);
	free(text);
}

Test(table, columns_align_on_the_widest_cell)
{
	static const char *const cells[] = {
		"ID", "USERNAME", "STATUS",
		"1", "alice", "enabled",
		"12", "bob", "disabled",
	};

	expect_table(3, 3, cells, "ID  USERNAME  STATUS\n"
		     "1   alice     enabled\n"
		     "12  bob       disabled\n");
}

Test(table, width_counts_characters_not_bytes)
{
	static const char *const cells[] = {
		"NAME", "X",
		"\xc3\xa9t\xc3\xa9", "1", /* été: 3 characters, 5 bytes */
	};

	cr_assert_eq(table_width("\xc3\xa9t\xc3\xa9"), 3);
	expect_table(2, 2, cells, "NAME  X\n\xc3\xa9t\xc3\xa9   1\n");
}

Test(table, empty_last_cells_leave_no_trailing_space)
{
	static const char *const cells[] = {
		"A", "EMAIL", "ROLES",
		"x", "", "",
		"y", "", "admin",
	};

	expect_table(3, 3, cells, "A  EMAIL  ROLES\nx\ny         admin\n");
}

Test(table, control_characters_print_as_question_marks)
{
	static const char *const cells[] = {
		"UA",
		"evil\x1b[2Jagent\x7f\xc2\x9bx",
	};

	expect_table(2, 1, cells, "UA\nevil?[2Jagent??x\n");
}

Test(table, header_only)
{
	static const char *const cells[] = {"NAME", "CREATED"};
	expect_table(1, 2, cells, "NAME  CREATED\n");
}

/* Plain aligned text tables for the admin commands' listings. Pure. */
#ifndef AUTHGATE_TABLE_H
#define AUTHGATE_TABLE_H

#include <stddef.h>
#include <stdio.h>

/* The text of cell (row, col); row 0 is the header. Borrowed until the
 * next call. */
typedef const char *table_cell_fn(void *arg, size_t row, size_t col);

/*
 * Prints `nrows` rows (header included) of `ncols` columns, each column as
 * wide as its widest cell in characters (UTF-8 code points), separated by
 * two spaces, without trailing spaces. Control characters print as '?',
 * so stored text cannot drive the terminal.
 */
void table_print(FILE *out, size_t nrows, size_t ncols, table_cell_fn *cell,
		 void *arg);

/* The width table_print() gives `s`: its UTF-8 code points. */
size_t table_width(const char *s);

#endif

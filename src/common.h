/* Conventions shared by every module: result codes and attributes. */
#ifndef AUTHGATE_COMMON_H
#define AUTHGATE_COMMON_H

#define AG_MUST_CHECK __attribute__((warn_unused_result))
#define AG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define AG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Result of every parser and validator: pure functions over buffers. */
enum parse_result {
	PARSE_OK = 0,
	PARSE_ABSENT = 1,    /* the field or cookie is not there */
	PARSE_INVALID = -1,  /* malformed input */
	PARSE_TOO_LONG = -2, /* would not fit the caller's bounded output */
};

#endif

// libedit's readline-compatible API (Debian: libedit-dev): line editing and history for `sns client`.
#include <stdio.h>
#include <editline/readline.h>

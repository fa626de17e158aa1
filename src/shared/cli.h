/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every program's command line has in common: -h/--help,
 * -V/--version, the hint after an option it does not know, and no operands
 * where it takes none. Each program keeps its own option table and help.
 */
#pragma once

/* The end of a program's getopt_long() switch, for the options it does not
 * handle itself: 'h' prints help(), 'V' the version, anything else (getopt
 * has already named it) the hint to try --help. Returns the exit status:
 * EXIT_SUCCESS, or usage_status for an unknown option. */
int cli_other_option(int c, const char *program, void (*help)(void), int usage_status);

/* -1 if argv has no operands left after optind, else EXIT_FAILURE after
 * saying which one was not expected. */
int cli_no_operands(int argc, char *argv[], const char *program);

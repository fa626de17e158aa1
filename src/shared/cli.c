/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The options every program shares (see cli.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "build-config.h"
#include "cli.h"
#include "log.h"

int cli_other_option(int c, const char *program, void (*help)(void), int usage_status) {
        switch (c) {
        case 'h':
                help();
                return EXIT_SUCCESS;
        case 'V':
                printf("%s\n", PACKAGE_VERSION);
                return EXIT_SUCCESS;
        default:
                fprintf(stderr, "Try '%s --help' for more information.\n", program);
                return usage_status;
        }
}

int cli_no_operands(int argc, char *argv[], const char *program) {
        if (optind >= argc)
                return -1;
        log_error("Unexpected argument '%s'. Try '%s --help'.", argv[optind], program);
        return EXIT_FAILURE;
}

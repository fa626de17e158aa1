/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Golden header blocks: host facts read from fake system roots (os-release,
 * DMI, cpuinfo; missing files, blank values, control characters, over-long
 * lines) and a record built from them with a fixed time and event id,
 * compared byte for byte with tests/unit/golden/<case>.headers. Run with
 * "--update DIR" to rewrite the golden files after a deliberate change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "header-block.h"
#include "test-util.h"
#include "tm-host.h"
#include "tm-record.h"

#define GOLDEN_TIME ((time_t) 1700000000)
#define GOLDEN_EVENT_ID "0123456789abcdef0123456789abcdef"

static const char *golden_dir;
static bool update_golden;

struct file {
        const char *path;
        const char *data; /* NULL: the file does not exist */
};

struct host_case {
        const char *name;
        const char *machine, *release; /* uname(2) fields */
        struct file files[12];
};

#define DMI "sys/class/dmi/id/"
#define CPUINFO_HEAD "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 142\n"

static const struct host_case cases[] = {
        {
                .name = "full",
                .machine = "x86_64",
                .release = "6.1.0-13-amd64",
                .files = {
                        { "etc/os-release",
                          "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                          "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\nID_LIKE=ubuntu\n" },
                        { "usr/lib/os-release", "ID=ignored\nVERSION_ID=99\n" },
                        { DMI "sys_vendor", "LENOVO\n" },
                        { DMI "product_name", "20L8S2N800\n" },
                        { DMI "product_version", "ThinkPad T480s\n" },
                        { DMI "board_name", "20L8S2N800\n" },
                        { DMI "board_vendor", "LENOVO\n" },
                        { DMI "bios_version", "N22ET80W (1.57 )\n" },
                        { "proc/cpuinfo",
                          CPUINFO_HEAD "model name\t: Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz\nstepping\t: 10\n\n"
                                       "processor\t: 1\nmodel name\t: second CPU is ignored\n" },
                },
        },
        {
                /* Nothing at all: every fallback of the original. */
                .name = "missing",
                .machine = "",
                .release = "",
        },
        {
                .name = "blank",
                .machine = "riscv64",
                .release = "6.6.0",
                .files = {
                        { "etc/os-release", "ID=\nVERSION_ID=\"\"\n" },
                        { DMI "sys_vendor", "" },
                        { DMI "product_name", "   \n" },
                        { DMI "product_version", "\t \n" },
                        { DMI "board_name", "\n" },
                        { DMI "board_vendor", " " },
                        { DMI "bios_version", "\n\nsecond line is not read\n" },
                        { "proc/cpuinfo", CPUINFO_HEAD "model name\t:    \t \n" },
                },
        },
        {
                /* Bytes that would break a header line become '?'; long
                 * values are cut (DMI at 78 bytes as the original did). */
                .name = "control",
                .machine = "x86_64",
                .release = "6.1.0\x01-evil\r",
                .files = {
                        { "etc/os-release",
                          "ID=\"clear\x1b[31m\"\nVERSION_ID=40000\x7f\n" },
                        { DMI "sys_vendor", "Ven\x01" "dor\r\n" },
                        { DMI "product_name", "first\nsecond line\n" },
                        { DMI "product_version", "tab\there\n" },
                        { DMI "board_name", "Fabricant\xc3\xa9\n" },
                        { DMI "board_vendor", "pipe|inside\n" },
                        { DMI "bios_version",
                          "0123456789012345678901234567890123456789012345678901234567890123456789012345678_cut_here\n" },
                        { "proc/cpuinfo", CPUINFO_HEAD "model name : CPU\x02 with\x1b junk   \r\n" },
                },
        },
        {
                /* /usr/lib/os-release when /etc/os-release is missing; no
                 * "model name" line (as on many ARM systems). */
                .name = "usrlib",
                .machine = "aarch64",
                .release = "6.6.31+rpt-rpi-v8",
                .files = {
                        { "usr/lib/os-release", "NAME=\"Clear Linux OS\"\nID=clear-linux-os\nVERSION_ID=41230\n" },
                        { DMI "sys_vendor", "Raspberry Pi Foundation\n" },
                        { "proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 108.00\nCPU implementer\t: 0x41\n" },
                },
        },
        {
                /* Lines longer than the readers' buffers: their tails must
                 * not be taken for lines of their own, and a 200-byte
                 * VERSION_ID (a stack overflow in the original) is cut. */
                .name = "longlines",
                .machine = "x86_64",
                .release = "6.1.0",
                .files = {
                        { "etc/os-release",
                          "PRETTY_NAME=\"" "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "01234567" "ID=evil\"\n"
                          "VERSION_ID=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
                          "ID=good\n" },
                        { "proc/cpuinfo",
                          "flags\t\t: " "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "012345678901" "model name\t: tail of flags\n"
                          "model name\t: Real CPU "
                          "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789012345678901234567890123456789\n" },
                },
        },
};

static void make_root(const char *root, const struct host_case *c) {
        for (size_t i = 0; i < sizeof(c->files) / sizeof(c->files[0]) && c->files[i].path; i++)
                if (c->files[i].data)
                        test_write_string(root, c->files[i].path, c->files[i].data);
}

static struct telem_record *record_for(const struct host_case *c, const char *root) {
        struct utsname uts = {};
        struct host_facts facts;
        struct telem_record *rec = NULL;

        strncpy(uts.machine, c->machine, sizeof(uts.machine) - 1);
        strncpy(uts.release, c->release, sizeof(uts.release) - 1);
        host_facts_read(root, &uts, &facts);
        ck_assert_int_eq(record_new(&facts, 2, "org.example/golden/headers", 7, GOLDEN_TIME, GOLDEN_EVENT_ID, &rec),
                         0);
        return rec;
}

START_TEST(test_golden_headers) {
        const struct host_case *c = &cases[_i];
        char *root = test_mkdtemp(), *golden;
        struct telem_record *rec;
        struct header_view view;

        make_root(root, c);
        rec = record_for(c, root);

        ck_assert_uint_eq(strlen(rec->headers), rec->header_size);
        ck_assert_str_eq(rec->payload, "");
        ck_assert_uint_eq(rec->payload_size, 0);
        /* telemd's parser accepts what the library writes. */
        ck_assert_int_eq(header_block_parse(rec->headers, rec->header_size, &view), 0);
        ck_assert_uint_eq(view.count, TM_NUM_HEADERS);

        golden = test_path(golden_dir, c->name);
        golden = realloc(golden, strlen(golden) + 16);
        strcat(golden, ".headers");
        ck_assert_msg(test_golden_compare(golden, rec->headers, rec->header_size, update_golden),
                      "case %s differs from %s", c->name, golden);

        free(golden);
        record_free(rec);
        test_rm_rf(root);
        free(root);
}
END_TEST

/* "/" and "" both mean the running system; only the shape is checked. */
START_TEST(test_running_system) {
        struct host_facts a, b;
        struct utsname uts;

        host_facts_read("", NULL, &a);
        host_facts_read("/", NULL, &b);
        ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
        ck_assert_int_eq(uname(&uts), 0);
        ck_assert_str_eq(a.arch, uts.machine);
        ck_assert(a.build[0] && a.system_name[0] && a.cpu_model[0] && a.bios_version[0]);
        ck_assert_ptr_nonnull(strchr(a.host_type, '|'));
        ck_assert_ptr_eq(host_facts_get(), host_facts_get());
}
END_TEST

/* Severity is clamped, payload version printed unsigned, the time signed. */
START_TEST(test_record_numbers) {
        static const struct {
                uint32_t severity, version;
                time_t when;
                const char *sev_line, *ver_line, *time_line;
        } t[] = {
                { 0, 0, 0, "severity: 1\n", "payload_format_version: 0\n", "creation_timestamp: 0\n" },
                { 4, 2000, 1, "severity: 4\n", "payload_format_version: 2000\n", "creation_timestamp: 1\n" },
                { 5, UINT32_MAX, -1, "severity: 4\n", "payload_format_version: 4294967295\n",
                  "creation_timestamp: -1\n" },
                { UINT32_MAX, 1, 4102444800, "severity: 4\n", "payload_format_version: 1\n",
                  "creation_timestamp: 4102444800\n" },
        };
        struct host_facts facts;

        host_facts_read("/nonexistent-root-for-test", NULL, &facts);
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct telem_record *rec = NULL;

                ck_assert_int_eq(record_new(&facts, t[i].severity, "a/b/c", t[i].version, t[i].when, GOLDEN_EVENT_ID,
                                            &rec),
                                 0);
                ck_assert_ptr_nonnull(strstr(rec->headers, t[i].sev_line));
                ck_assert_ptr_nonnull(strstr(rec->headers, t[i].ver_line));
                ck_assert_ptr_nonnull(strstr(rec->headers, t[i].time_line));
                ck_assert_str_eq(rec->headers + rec->event_id_offset, GOLDEN_EVENT_ID "\n");
                record_set_event_id(rec, "ffffffffffffffffffffffffffffffff");
                ck_assert_str_eq(rec->headers + rec->event_id_offset, "ffffffffffffffffffffffffffffffff\n");
                record_free(rec);
        }
}
END_TEST

static Suite *host_record_suite(void) {
        Suite *s = suite_create("host-record");
        TCase *tc = tcase_create("golden");

        tcase_add_loop_test(tc, test_golden_headers, 0, (int) (sizeof(cases) / sizeof(cases[0])));
        tcase_add_test(tc, test_running_system);
        tcase_add_test(tc, test_record_numbers);
        suite_add_tcase(s, tc);
        return s;
}

int main(int argc, char *argv[]) {
        if (argc == 3 && strcmp(argv[1], "--update") == 0) {
                update_golden = true;
                golden_dir = argv[2];
        } else if (argc == 2)
                golden_dir = argv[1];
        else {
                fprintf(stderr, "Usage: %s [--update] GOLDEN_DIR\n", argv[0]);
                return 2;
        }
        return test_run_suite(host_record_suite());
}

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The README's operator section: its table of configuration keys lists
exactly the keys telemd knows, in the order of src/shared/config-table.c, with
their defaults (as `telemd --check-config` prints them for an empty file); and
the README still opens with exactly two set-up commands."""
import re
import unittest

from harness import BUILD, SOURCE, Workdir, binary, run


def readme():
    return (SOURCE / "README.md").read_text()


def section(text, heading):
    """The text under a heading, up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n") + len(heading) + 1
    m = re.compile(r"(?m)^#{1,%d} " % level).search(text, start)
    return text[start:m.start() if m else len(text)]


def code_blocks(text):
    """Fenced and 4-space indented blocks, in order, as their text."""
    blocks, current, fenced = [], None, False
    for line in text.splitlines() + [""]:
        if line.startswith("```"):
            if fenced:
                blocks.append("\n".join(current))
                current, fenced = None, False
            else:
                current, fenced = [], True
            continue
        if fenced:
            current.append(line)
        elif line.startswith("    ") and line.strip():
            current = (current or []) + [line[4:]]
        elif current is not None and not line.strip():
            blocks.append("\n".join(current))
            current = None
    return blocks


def build_config():
    """The quoted #defines of this build's build-config.h."""
    text = (BUILD / "build-config.h").read_text()
    return dict(re.findall(r'(?m)^#define (\w+) "(.*)"$', text))


class Readme(unittest.TestCase):
    def effective_defaults(self):
        with Workdir() as w:
            empty = w.write("empty.conf", "")
            out = run([binary("telemd"), "-f", empty, "--check-config"])
        self.assertEqual(out.returncode, 0, out.stderr)
        return [tuple(l.split("=", 1)) for l in out.stdout.splitlines() if "=" in l and not l.startswith("#")]

    def readme_table(self):
        text = section(readme(), "### Configuration keys")
        rows = re.findall(r"(?m)^\| `(\w+)` \| (.+?) \| (.+?) \|$", text)
        self.assertGreater(len(rows), 20, "no table of configuration keys in the README")
        return rows

    def test_table_lists_every_key_in_order(self):
        self.assertEqual([r[0] for r in self.readme_table()], [k for k, _ in self.effective_defaults()])

    def test_table_defaults(self):
        """Path defaults are those of a --prefix=/usr build: mapped onto this build's directories."""
        bc = build_config()
        options = (SOURCE / "meson_options.txt").read_text()
        shipped_server = re.search(r"option\('default_server'.*?value: '([^']+)'", options, re.S).group(1)
        prefixes = {"/etc/": bc["TM_SYSCONFDIR"] + "/", "/var/": bc["TM_LOCALSTATEDIR"] + "/",
                    "/run/": bc["TM_RUNSTATEDIR"] + "/"}
        actual = dict(self.effective_defaults())
        for key, cell, meaning in self.readme_table():
            with self.subTest(key=key):
                if cell == "(empty)":
                    value = ""
                else:
                    m = re.fullmatch(r"`([^`]+)`", cell)
                    self.assertIsNotNone(m, f"default of {key} is not `value` or (empty): {cell}")
                    value = m.group(1)
                for usr, here in prefixes.items():
                    if value.startswith(usr):
                        value = here + value[len(usr):]
                if key == "server" and value == shipped_server:
                    value = bc["TM_DEFAULT_SERVER"]
                self.assertEqual(value, actual[key])
                self.assertTrue(meaning.strip(), key)

    def test_operator_section(self):
        ops = section(readme(), "## For operators")
        for heading in ("### Install", "### Opt in", "### Point at a server", "### Read the status",
                        "### Where things are", "### Configuration keys"):
            self.assertIn(heading + "\n", ops)
        commands = "\n".join(code_blocks(ops))
        for command in ("meson setup build --prefix=/usr", "meson install -C build", "telemctl opt-in",
                        "systemctl enable --now telemd.socket", "telemd --check-config", "telemctl status"):
            self.assertIn(command, commands)

    def test_two_setup_commands_first(self):
        text = readme()
        try_it = section(text, "## Try it")
        self.assertEqual(code_blocks(try_it), ["./tools/demo.sh", "./tools/test.sh"])
        # Before them only the pipeline picture: no command of any kind.
        before = text[:text.index("## Try it")]
        for block in code_blocks(before):
            self.assertNotRegex(block, r"(?m)^\s*(\$|#|sudo|apt|meson|ninja|make|\./|cd |pip|git )", block)


if __name__ == "__main__":
    unittest.main(verbosity=2)
